"""Cut-off rules: calendar days and months on the organisation's wall clock, DST and clamping."""

import calendar
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from retention import rules

aware = st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC))
zones = (
    st.sampled_from(
        [
            "Europe/Brussels",
            "America/New_York",
            "Australia/Lord_Howe",
            "Pacific/Apia",
            "America/Santiago",
            "Asia/Tehran",
            "UTC",
            "Pacific/Chatham",
            "America/St_Johns",
        ]
    )
    | st.timezone_keys()
)


def _exists(naive: datetime, tz) -> bool:
    back = naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    return back == naive


@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)), months=st.integers(0, 600))
def test_subtract_months_clamps_to_month_end(day, months):
    result = rules.subtract_months(day, months)
    assert (day.year * 12 + day.month) - (result.year * 12 + result.month) == months
    assert result.day == min(day.day, calendar.monthrange(result.year, result.month)[1])


@pytest.mark.smoke
def test_subtract_months_examples():
    assert rules.subtract_months(date(2024, 3, 31), 1) == date(2024, 2, 29)
    assert rules.subtract_months(date(2023, 3, 31), 1) == date(2023, 2, 28)
    assert rules.subtract_months(date(2024, 1, 15), 24) == date(2022, 1, 15)
    assert rules.subtract_months(date(2024, 12, 31), 6) == date(2024, 6, 30)


@given(now=aware, zone=zones, period=st.integers(1, 3000), unit=st.sampled_from([rules.DAYS, rules.MONTHS]))
def test_cutoff_keeps_the_wall_clock_time_or_falls_back_to_earlier_instant(now, zone, period, unit):
    tz = ZoneInfo(zone)
    result = rules.cutoff(now=now, period=period, unit=unit, tz=tz)
    local = now.astimezone(tz)
    expected_day = (
        local.date() - timedelta(days=period) if unit == rules.DAYS else rules.subtract_months(local.date(), period)
    )
    wall = datetime.combine(expected_day, local.time().replace(tzinfo=None))
    got_wall = result.astimezone(tz).replace(tzinfo=None)
    assert result.tzinfo is not None
    assert result < now
    if _exists(wall, tz):
        # Either the same wall time, or (when it occurs twice) the earlier of its two instants.
        assert got_wall == wall
        assert result.astimezone(UTC) <= wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    else:
        # Skipped by a DST jump: the earlier instant, before the gap, so nothing is acted on early.
        assert got_wall < wall
        assert result.astimezone(UTC) <= wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


@given(now=aware, zone=zones, a=st.integers(0, 2000), b=st.integers(0, 2000), unit=st.sampled_from(["days", "months"]))
def test_longer_period_never_gives_a_later_cutoff(now, zone, a, b, unit):
    tz = ZoneInfo(zone)
    short, long = sorted((a, b))
    assert rules.cutoff(now=now, period=long, unit=unit, tz=tz) <= rules.cutoff(now=now, period=short, unit=unit, tz=tz)


@pytest.mark.smoke
def test_days_are_calendar_days_across_dst():
    tz = ZoneInfo("Europe/Brussels")
    # The day after the spring change (31 March 2024 lost an hour): one calendar day is 23 hours.
    now = datetime(2024, 4, 1, 1, 30, tzinfo=tz)
    cut = rules.cutoff(now=now, period=1, unit="days", tz=tz)
    assert cut == datetime(2024, 3, 31, 1, 30, tzinfo=tz)
    assert now.astimezone(UTC) - cut.astimezone(UTC) == timedelta(hours=23)
    # Autumn: 27 October 2024 had 25 hours.
    now = datetime(2024, 10, 27, 12, 0, tzinfo=tz)
    cut = rules.cutoff(now=now, period=1, unit="days", tz=tz)
    assert now.astimezone(UTC) - cut.astimezone(UTC) == timedelta(hours=25)


def test_skipped_and_repeated_wall_times_take_the_earlier_instant():
    tz = ZoneInfo("Europe/Brussels")
    # 02:30 on 31 March 2024 never happened in Brussels: cut at the instant before the jump (01:30 CET).
    now = datetime(2024, 4, 30, 2, 30, tzinfo=tz)
    cut = rules.cutoff(now=now, period=30, unit="days", tz=tz)
    assert cut.astimezone(UTC) == datetime(2024, 3, 31, 0, 30, tzinfo=UTC)
    # 02:30 on 27 October 2024 happened twice: the first one (CEST, 00:30 UTC).
    now = datetime(2024, 11, 27, 2, 30, tzinfo=tz)
    cut = rules.cutoff(now=now, period=1, unit="months", tz=tz)
    assert cut.astimezone(UTC) == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)


def test_month_periods_clamp_in_local_time_not_utc():
    tz = ZoneInfo("Europe/Brussels")
    # 00:30 on 31 March in Brussels is still 30 March in UTC; the local date decides.
    now = datetime(2025, 3, 31, 0, 30, tzinfo=tz)
    assert rules.cutoff(now=now, period=1, unit="months", tz=tz) == datetime(2025, 2, 28, 0, 30, tzinfo=tz)


@pytest.mark.smoke
def test_cutoff_rejects_naive_now_and_bad_units():
    with pytest.raises(ValueError):
        rules.cutoff(now=datetime(2024, 1, 1), period=1, unit="days", tz=UTC)
    with pytest.raises(ValueError):
        rules.cutoff(now=datetime(2024, 1, 1, tzinfo=UTC), period=1, unit="weeks", tz=UTC)
