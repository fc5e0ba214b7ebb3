"""The legal deadline rules, checked over many dates with hypothesis."""

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from requests_app import deadlines as d

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
holiday_sets = st.frozensets(dates, max_size=20)


@pytest.mark.smoke
def test_month_end_is_clamped():
    assert d.add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert d.add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert d.add_months(date(2027, 3, 31), 1) == date(2027, 4, 30)
    assert d.add_months(date(2027, 12, 15), 1) == date(2028, 1, 15)


@given(received=dates)
def test_gdpr_one_calendar_month(received):
    for jurisdiction in ("gdpr", "uk_gdpr"):
        due = d.due_date(jurisdiction=jurisdiction, kind="access", received=received)
        month_index = received.year * 12 + received.month
        assert due.year * 12 + due.month == month_index + 1
        last = calendar.monthrange(due.year, due.month)[1]
        assert due.day == min(received.day, last)
        assert 28 <= (due - received).days <= 31


@given(received=dates, ext_today=st.integers(min_value=0, max_value=40))
def test_gdpr_extension_only_within_first_month_and_once(received, ext_today):
    original = d.due_date(jurisdiction="gdpr", kind="access", received=received)
    today = received + timedelta(days=ext_today)
    allowed = d.can_extend(
        jurisdiction="gdpr", kind="access", original_due=original, today=today, already_extended=False
    )
    assert allowed == (today <= original)
    assert not d.can_extend(
        jurisdiction="gdpr", kind="access", original_due=original, today=today, already_extended=True
    )
    extended = d.extended_due_date(jurisdiction="gdpr", original_due=original)
    assert d.add_months(original, 2) == extended
    assert 59 <= (extended - original).days <= 62


@given(received=dates, kind=st.sampled_from(["access", "erasure", "portability", "rectification"]))
def test_ccpa_45_days_plus_one_45_day_extension(received, kind):
    due = d.due_date(jurisdiction="ccpa", kind=kind, received=received)
    assert (due - received).days == 45
    assert (d.extended_due_date(jurisdiction="ccpa", original_due=due) - received).days == 90


@given(received=dates, holidays=holiday_sets)
def test_ccpa_acknowledgement_and_opt_out_in_business_days(received, holidays):
    ack = d.acknowledge_by(jurisdiction="ccpa", received=received, holidays=holidays)
    opt_out = d.due_date(jurisdiction="ccpa", kind="opt_out", received=received, holidays=holidays)
    for limit, n in ((ack, 10), (opt_out, 15)):
        span = [received + timedelta(days=i) for i in range(1, (limit - received).days + 1)]
        assert sum(1 for x in span if x.weekday() < 5 and x not in holidays) == n
        assert limit.weekday() < 5 and limit not in holidays
    assert not d.can_extend(
        jurisdiction="ccpa", kind="opt_out", original_due=opt_out, today=received, already_extended=False
    )


@given(received=dates, default_days=st.integers(min_value=1, max_value=90))
def test_lgpd_and_elsewhere(received, default_days):
    assert d.due_date(jurisdiction="lgpd", kind="access", received=received) == received + timedelta(days=15)
    other = d.due_date(jurisdiction="other", kind="access", received=received, default_days=default_days)
    assert other == received + timedelta(days=default_days)
    for j in ("lgpd", "other"):
        assert not d.can_extend(
            jurisdiction=j, kind="access", original_due=other, today=received, already_extended=False
        )
    assert d.acknowledge_by(jurisdiction="gdpr", received=received) is None


@given(start=dates, n=st.integers(min_value=0, max_value=60), holidays=holiday_sets)
def test_business_days_skip_weekends_and_holidays(start, n, holidays):
    result = d.add_business_days(start, n, holidays)
    assert result >= start
    if n:
        assert d.is_business_day(result, holidays)
    counted = sum(
        1 for i in range(1, (result - start).days + 1) if d.is_business_day(start + timedelta(days=i), holidays)
    )
    assert counted == n


def test_holidays_parsed_from_settings_strings():
    assert d.parse_holidays(["2027-12-25", " ", date(2027, 1, 1)]) == frozenset({date(2027, 12, 25), date(2027, 1, 1)})
    # Friday 24 Dec 2027 + 1 business day with Monday 27 a holiday -> Tuesday 28
    assert d.add_business_days(date(2027, 12, 24), 1, frozenset({date(2027, 12, 27)})) == date(2027, 12, 28)
