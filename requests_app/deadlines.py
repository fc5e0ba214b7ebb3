"""Legal deadlines for data-subject requests, as pure functions of dates.

Every date here is a calendar date in the organisation's time zone (``settings.TIME_ZONE``);
callers convert datetimes with ``local_date``. Nothing here touches the database.

- GDPR / UK GDPR: one calendar month from receipt, the day clamped to the month's end; one
  extension of two further months, decided while still within the first month.
- CCPA/CPRA: 45 calendar days, one 45-day extension with notice; acknowledge within 10 business
  days; an opt-out of sale or sharing is due within 15 business days.
- LGPD: 15 days, no extension.
- Elsewhere: ``settings.DSR_DEFAULT_DEADLINE_DAYS``.
"""

import calendar
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

GDPR = "gdpr"
UK_GDPR = "uk_gdpr"
CCPA = "ccpa"
LGPD = "lgpd"
OTHER = "other"

CCPA_DAYS = 45
CCPA_EXTENSION_DAYS = 45
CCPA_ACK_BUSINESS_DAYS = 10
CCPA_OPT_OUT_BUSINESS_DAYS = 15
LGPD_DAYS = 15
GDPR_EXTENSION_MONTHS = 2


def add_months(d: date, months: int) -> date:
    """``d`` plus whole calendar months, the day clamped to the target month's end (31 Jan + 1 -> 28/29 Feb)."""
    index = d.month - 1 + months
    year, month = d.year + index // 12, index % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def parse_holidays(values: Iterable) -> frozenset[date]:
    """ISO strings or dates -> a set of dates (blank entries ignored)."""
    out = set()
    for v in values or ():
        if isinstance(v, date):
            out.add(v)
        elif str(v).strip():
            out.add(date.fromisoformat(str(v).strip()))
    return frozenset(out)


def is_business_day(d: date, holidays: frozenset[date] = frozenset()) -> bool:
    return d.weekday() < 5 and d not in holidays


def add_business_days(d: date, days: int, holidays: frozenset[date] = frozenset()) -> date:
    """The ``days``-th business day after ``d`` (weekends and holidays skipped; ``d`` itself not counted)."""
    current = d
    left = days
    while left > 0:
        current += timedelta(days=1)
        if is_business_day(current, holidays):
            left -= 1
    return current


def due_date(
    *, jurisdiction: str, kind: str, received: date, default_days: int = 30, holidays: frozenset[date] = frozenset()
) -> date:
    """The date by which a request received on ``received`` must be answered."""
    if jurisdiction in (GDPR, UK_GDPR):
        return add_months(received, 1)
    if jurisdiction == CCPA:
        if kind == "opt_out":
            return add_business_days(received, CCPA_OPT_OUT_BUSINESS_DAYS, holidays)
        return received + timedelta(days=CCPA_DAYS)
    if jurisdiction == LGPD:
        return received + timedelta(days=LGPD_DAYS)
    return received + timedelta(days=default_days)


def acknowledge_by(*, jurisdiction: str, received: date, holidays: frozenset[date] = frozenset()) -> date | None:
    """When receipt must be acknowledged, where a law sets a limit (CCPA: 10 business days)."""
    if jurisdiction == CCPA:
        return add_business_days(received, CCPA_ACK_BUSINESS_DAYS, holidays)
    return None


def can_extend(*, jurisdiction: str, kind: str, original_due: date, today: date, already_extended: bool) -> bool:
    """Whether the one allowed extension may still be taken today."""
    if already_extended:
        return False
    if jurisdiction in (GDPR, UK_GDPR):
        return today <= original_due
    if jurisdiction == CCPA:
        # The opt-out limit has no extension; other requests: notice within the first 45 days.
        return kind != "opt_out" and today <= original_due
    return False


def extended_due_date(*, jurisdiction: str, original_due: date) -> date:
    """The due date after the one extension (GDPR: two further months; CCPA: 45 further days)."""
    if jurisdiction in (GDPR, UK_GDPR):
        return add_months(original_due, GDPR_EXTENSION_MONTHS)
    if jurisdiction == CCPA:
        return original_due + timedelta(days=CCPA_EXTENSION_DAYS)
    raise ValueError(f"No extension is provided for {jurisdiction!r}.")


def days_left(*, due: date, today: date) -> int:
    """Calendar days from today to the due date (negative when overdue)."""
    return (due - today).days


def end_of_day(d: date, tz: ZoneInfo) -> datetime:
    """The last moment of ``d`` in ``tz``: a request due on a date may be answered all that day."""
    return datetime.combine(d, time(23, 59, 59), tzinfo=tz)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()
