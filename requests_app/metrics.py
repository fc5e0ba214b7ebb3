"""Figures for the staff metrics page: counts, time to close, on-time share, per month; CCPA §7102 per year."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from core import charts
from requests_app import services
from requests_app.models import DataRequest, Jurisdiction, RequestKind, RequestStatus

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


def _days(rows) -> dict:
    days = [r["days"] for r in rows if r["days"] is not None]
    on_time = [r for r in rows if r["on_time"] is not None]
    return {
        "closed": len(days),
        "median_days": round(statistics.median(days), 1) if days else None,
        "mean_days": round(statistics.fmean(days), 1) if days else None,
        "on_time_pct": round(100 * sum(r["on_time"] for r in on_time) / len(on_time)) if on_time else None,
    }


def ccpa_yearly(*, rows: list[dict], this_year: int) -> list[dict]:
    """CCPA §7102 figures per calendar year and right: received, complied with, denied, median and mean days.

    The four rights the regulation names are always listed, as zeros when none came in; the current year is
    always shown, so a quiet year still reads as a year with no requests.
    """
    years = defaultdict(list)
    for r in rows:
        years[r["year"]].append(r)
    years.setdefault(this_year, [])
    report = []
    for year in sorted(years, reverse=True):
        groups = defaultdict(list)
        for r in years[year]:
            groups[CCPA_GROUPS.get(r["kind"], "other")].append(r)
        for key, label in CCPA_GROUP_LABELS.items():
            group = groups.get(key, [])
            if not group and key not in CCPA_REQUIRED:
                continue
            days = _days(group)
            report.append(
                {
                    "year": year,
                    "label": label,
                    "received": len(group),
                    "complied": sum(r["status"] == S.COMPLETED for r in group),
                    "denied": sum(r["status"] == S.DENIED for r in group),
                    "median_days": days["median_days"],
                    "mean_days": days["mean_days"],
                }
            )
    return report


def build_metrics(*, now: datetime | None = None) -> dict:
    """Everything the metrics page shows, computed in one pass over the request log."""
    tz = services.org_tz()
    rows = []
    # A repeat submission folded into the same person's open request is that request, not another one.
    requests = DataRequest.objects.filter(merged_into__isnull=True)
    for kind, status, received_at, closed_at, due_at, jurisdiction in requests.values_list(
        "kind", "status", "received_at", "closed_at", "due_at", "jurisdiction"
    ).iterator():
        answered = status in (S.COMPLETED, S.DENIED) and closed_at is not None
        rows.append(
            {
                "kind": kind,
                "status": status,
                "jurisdiction": jurisdiction,
                "month": received_at.astimezone(tz).strftime("%Y-%m"),
                "year": received_at.astimezone(tz).year,
                "days": (closed_at - received_at).total_seconds() / 86400 if answered else None,
                "on_time": (closed_at <= due_at) if answered else None,
            }
        )
    by_kind = Counter(r["kind"] for r in rows)
    by_status = Counter(r["status"] for r in rows)
    months = defaultdict(list)
    for r in rows:
        months[r["month"]].append(r)
    # Every one of the last twelve months, an empty one as zeros: a gap in the chart would read as a trend.
    now = (now or timezone.now()).astimezone(tz)
    year, month = now.year, now.month
    periods = []
    for _step in range(MONTHS):
        periods.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    monthly = []
    for first in reversed(periods):
        group = months.get(first.strftime("%Y-%m"), [])
        monthly.append(
            {
                "month": first.strftime("%Y-%m"),
                "label": date_format(first, "M Y"),
                "received": len(group),
                **_days(group),
            }
        )
    categories = [m["label"] for m in monthly]
    series = [
        charts.Series(_("Received"), "#417690", [m["received"] for m in monthly]),
        charts.Series(_("Answered (completed or denied)"), "#a35b00", [m["closed"] for m in monthly]),
    ]
    chart = charts.bar_chart(title=_("Requests received and answered per month"), categories=categories, series=series)
    ccpa = ccpa_yearly(rows=[r for r in rows if r["jurisdiction"] == Jurisdiction.CCPA], this_year=now.year)
    return {
        "total": len(rows),
        "by_kind": [(RequestKind(k).label, by_kind.get(k, 0)) for k in RequestKind.values],
        "by_status": [(RequestStatus(s).label, by_status.get(s, 0)) for s in RequestStatus.values],
        "overall": _days(rows),
        "monthly": monthly,
        "chart": chart,
        "ccpa": ccpa,
    }
