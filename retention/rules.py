"""Pure cut-off rules: when does a row become old enough to act on?

Periods are counted on the organisation's wall clock (``settings.TIME_ZONE``):
"30 days" means the same local time 30 calendar days earlier, whatever
daylight-saving changes lie in between, and "24 months" means the same local
day 24 months earlier, clamped to the end of shorter months (31 March minus
one month is 28 or 29 February). When that wall time is ambiguous or does not
exist (a DST change), the earlier instant wins, so data is never acted on early.
"""

import calendar
from datetime import UTC, date, datetime, timedelta, tzinfo

DAYS = "days"
MONTHS = "months"


def subtract_months(day: date, months: int) -> date:
    """``day`` moved back by whole calendar months, clamped to the target month's last day."""
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def localize_earliest(naive: datetime, tz: tzinfo) -> datetime:
    """Attach ``tz`` to a wall-clock time; for ambiguous or skipped times take the earlier instant."""
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    return min(first, second, key=lambda dt: dt.astimezone(UTC))


def cutoff(*, now: datetime, period: int, unit: str, tz: tzinfo) -> datetime:
    """The instant before which a value is past its retention ``period`` (``unit`` days or months)."""
    if now.tzinfo is None:
        raise ValueError("now must be time-zone aware")
    if period < 0:
        raise ValueError("period must not be negative")
    local = now.astimezone(tz)
    if unit == MONTHS:
        day = subtract_months(local.date(), period)
    elif unit == DAYS:
        day = local.date() - timedelta(days=period)
    else:
        raise ValueError(f"unknown period unit {unit!r}")
    wall = datetime.combine(day, local.time().replace(tzinfo=None))
    if period == 0:
        return now
    return localize_earliest(wall, tz)


def cutoff_date(*, now: datetime, period: int, unit: str, tz: tzinfo) -> date:
    """For date (not date-time) fields: days strictly before this local date are past the period."""
    return cutoff(now=now, period=period, unit=unit, tz=tz).astimezone(tz).date()


def is_expired(*, value: datetime, now: datetime, period: int, unit: str, tz: tzinfo) -> bool:
    """True when ``value`` is older than the retention period at ``now``."""
    return value < cutoff(now=now, period=period, unit=unit, tz=tz)
