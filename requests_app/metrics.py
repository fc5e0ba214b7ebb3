"""Figures for the staff metrics page: counts, time to close, on-time share, per month; CCPA §7102 per year."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from core import charts
from requests_app import services
from requests_app.models import (
    Jurisdiction,
    RequestFiguresState,
    RequestKind,
    RequestMonthlyFigures,
    RequestStatus,
)

S = RequestStatus
# CCPA §7102 reports by the consumer right exercised.
CCPA_GROUPS = {
    "access": "know",
    "portability": "know",
    "erasure": "delete",
    "rectification": "correct",
    "opt_out": "opt_out",
    "restriction": "limit",
}
CCPA_GROUP_LABELS = {
    "know": _("Requests to know"),
    "delete": _("Requests to delete"),
    "correct": _("Requests to correct"),
    "opt_out": _("Requests to opt out of sale/sharing"),
    "limit": _("Requests to limit"),
    "other": _("Other requests"),
}
# The rights §7102 asks figures for, listed even in a year with none.
CCPA_REQUIRED = ("know", "delete", "correct", "opt_out")
MONTHS = 12


class _Tally:
    """Figures of a group of summary rows: merged counts and the histogram of days to answer."""

    def __init__(self) -> None:
        self.received = self.answered = self.on_time = self.completed = self.denied = 0
        self.days_total = 0.0
        self.tenths: Counter = Counter()

    def add(self, row: RequestMonthlyFigures) -> None:
        self.received += row.received
        self.answered += row.answered
        self.on_time += row.on_time
        self.days_total += row.days_total
        self.completed += row.received if row.status == S.COMPLETED else 0
        self.denied += row.received if row.status == S.DENIED else 0
        self.tenths.update({int(k): v for k, v in row.days_tenths.items()})

    def median(self) -> float | None:
        """The median of the days to answer, to a tenth of a day (between the two middle ones for an even count)."""
        n = sum(self.tenths.values())
        if not n:
            return None
        wanted = sorted({(n - 1) // 2, n // 2})
        middle, seen = [], 0
        for tenths in sorted(self.tenths):
            count = self.tenths[tenths]
            middle += [tenths for i in wanted if seen <= i < seen + count]
            seen += count
        return round(sum(middle) / len(middle) / 10, 1) if len(wanted) == len(middle) else None

    def days(self) -> dict:
        return {
            "closed": self.answered,
            "median_days": self.median(),
            "mean_days": round(self.days_total / self.answered, 1) if self.answered else None,
            "on_time_pct": round(100 * self.on_time / self.answered) if self.answered else None,
        }


def _ccpa_report(stats: dict[tuple[int, str], _Tally], this_year: int) -> list[dict]:
    """CCPA §7102 rows per (year, right): the four rights the regulation names always, the current year always.

    A quiet year still reads as a year with no requests, not as a missing report.
    """
    years = {year for year, _group in stats} | {this_year}
    report = []
    for year in sorted(years, reverse=True):
        for key, label in CCPA_GROUP_LABELS.items():
            tally = stats.get((year, key))
            if tally is None and key not in CCPA_REQUIRED:
                continue
            tally = tally or _Tally()
            days = tally.days()
            report.append(
                {
                    "year": year,
                    "label": label,
                    "received": tally.received,
                    "complied": tally.completed,
                    "denied": tally.denied,
                    "median_days": days["median_days"],
                    "mean_days": days["mean_days"],
                }
            )
    return report


def build_metrics(*, now: datetime | None = None) -> dict:
    """Everything the metrics page shows, from the monthly figures (``services.summarise_requests``).

    A few hundred summary rows, whatever the number of requests. ``as_of`` says when they were counted (None
    before the job's first run).
    """
    tz = services.org_tz()
    # Every one of the last twelve months, an empty one as zeros: a gap in the chart would read as a trend.
    now = (now or timezone.now()).astimezone(tz)
    year, month = now.year, now.month
    periods = []
    for _step in range(MONTHS):
        periods.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    by_kind, by_status = Counter(), Counter()
    overall, per_month, ccpa_stats = _Tally(), defaultdict(_Tally), defaultdict(_Tally)
    for row in RequestMonthlyFigures.objects.all():
        by_kind[row.kind] += row.received
        by_status[row.status] += row.received
        overall.add(row)
        per_month[row.month.strftime("%Y-%m")].add(row)
        if row.jurisdiction == Jurisdiction.CCPA:
            ccpa_stats[(row.month.year, CCPA_GROUPS.get(row.kind, "other"))].add(row)
    monthly = []
    for first in reversed(periods):
        group = per_month.get(first.strftime("%Y-%m")) or _Tally()
        monthly.append(
            {"month": first.strftime("%Y-%m"), "label": date_format(first, "M Y"), "received": group.received}
            | group.days()
        )
    categories = [m["label"] for m in monthly]
    series = [
        charts.Series(_("Received"), "#417690", [m["received"] for m in monthly]),
        charts.Series(_("Answered (completed or denied)"), "#a35b00", [m["closed"] for m in monthly]),
    ]
    chart = charts.bar_chart(title=_("Requests received and answered per month"), categories=categories, series=series)
    return {
        "total": overall.received,
        "by_kind": [(RequestKind(k).label, by_kind.get(k, 0)) for k in RequestKind.values],
        "by_status": [(RequestStatus(s).label, by_status.get(s, 0)) for s in RequestStatus.values],
        "overall": overall.days(),
        "monthly": monthly,
        "chart": chart,
        "ccpa": _ccpa_report(ccpa_stats, now.year),
        "as_of": RequestFiguresState.objects.filter(key="requests").values_list("summarised_at", flat=True).first(),
    }
