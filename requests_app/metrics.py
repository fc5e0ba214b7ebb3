"""Figures for the staff metrics page: counts, time to close, on-time share, per month; CCPA §7102 per year."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, datetime

from django.core.cache import cache
from django.db import connection
from django.utils import timezone, translation
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


def _ccpa_report(stats: dict[tuple[int, str], dict], this_year: int) -> list[dict]:
    """CCPA §7102 rows from figures per (year, group): the four named rights always, the current year always."""
    years = {year for year, _group in stats} | {this_year}
    empty = {"received": 0, "complied": 0, "denied": 0, "median_days": None, "mean_days": None}
    report = []
    for year in sorted(years, reverse=True):
        for key, label in CCPA_GROUP_LABELS.items():
            figures = stats.get((year, key))
            if figures is None and key not in CCPA_REQUIRED:
                continue
            report.append({"year": year, "label": label, **(figures or empty)})
    return report


def ccpa_yearly(*, rows: list[dict], this_year: int) -> list[dict]:
    """CCPA §7102 figures per calendar year and right: received, complied with, denied, median and mean days.

    The four rights the regulation names are always listed, as zeros when none came in; the current year is
    always shown, so a quiet year still reads as a year with no requests.
    """
    groups = defaultdict(list)
    for r in rows:
        groups[(r["year"], CCPA_GROUPS.get(r["kind"], "other"))].append(r)
    stats = {}
    for key, group in groups.items():
        days = _days(group)
        stats[key] = {
            "received": len(group),
            "complied": sum(r["status"] == S.COMPLETED for r in group),
            "denied": sum(r["status"] == S.DENIED for r in group),
            "median_days": days["median_days"],
            "mean_days": days["mean_days"],
        }
    return _ccpa_report(stats, this_year)


_FIGURES_SQL = """
WITH r AS (
    SELECT kind, status, jurisdiction,
           to_char(received_at AT TIME ZONE %(tz)s, 'YYYY-MM') AS month,
           extract(year FROM received_at AT TIME ZONE %(tz)s)::int AS year,
           CASE WHEN status IN ('completed', 'denied') AND closed_at IS NOT NULL
                THEN extract(epoch FROM closed_at - received_at) / 86400.0 END AS days,
           status IN ('completed', 'denied') AND closed_at IS NOT NULL AND closed_at <= due_at AS on_time,
           CASE {ccpa_cases} ELSE 'other' END AS ccpa_group
    FROM requests_app_datarequest
    WHERE merged_into_id IS NULL
)
SELECT GROUPING(kind, status, month, jurisdiction, year, ccpa_group) AS grouping_set,
       kind, status, month, jurisdiction, year, ccpa_group,
       count(*), count(days), count(*) FILTER (WHERE on_time),
       count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status = 'denied'),
       avg(days), percentile_cont(0.5) WITHIN GROUP (ORDER BY days)
FROM r
GROUP BY GROUPING SETS ((kind, status), (), (month), (jurisdiction, year, ccpa_group))
"""
# GROUPING() bits, first column highest: which of the grouping sets a result row belongs to.
_BY_KIND_STATUS, _OVERALL, _BY_MONTH, _BY_CCPA_YEAR = 0b001111, 0b111111, 0b110111, 0b111000


def _round(value) -> float | None:
    return round(float(value), 1) if value is not None else None


def _figures_in_sql(*, tz) -> dict:
    """The page's figures from one aggregate query over the requests (PostgreSQL): no row reaches Python."""
    groups: dict[str, list[str]] = defaultdict(list)
    for kind, group in CCPA_GROUPS.items():
        groups[group].append(kind)
    cases = " ".join(
        "WHEN kind IN ({}) THEN '{}'".format(", ".join(f"'{k}'" for k in kinds), group)
        for group, kinds in sorted(groups.items())
    )  # constants of this module, never input
    with connection.cursor() as cursor:
        cursor.execute(_FIGURES_SQL.format(ccpa_cases=cases), {"tz": str(tz)})
        result = cursor.fetchall()
    by_kind, by_status, monthly, ccpa = Counter(), Counter(), {}, {}
    overall = {"closed": 0, **_days([])}
    for (
        gset,
        kind,
        status,
        month,
        jurisdiction,
        year,
        group,
        n,
        closed,
        on_time,
        complied,
        denied,
        mean,
        median,
    ) in result:
        days = {
            "closed": closed,
            "median_days": _round(median),
            "mean_days": _round(mean),
            "on_time_pct": round(100 * on_time / closed) if closed else None,
        }
        if gset == _BY_KIND_STATUS:
            by_kind[kind] += n
            by_status[status] += n
        elif gset == _OVERALL:
            overall = days
        elif gset == _BY_MONTH:
            monthly[month] = {"received": n, **days}
        elif gset == _BY_CCPA_YEAR and jurisdiction == Jurisdiction.CCPA:
            ccpa[(year, group)] = {
                "received": n,
                "complied": complied,
                "denied": denied,
                "median_days": days["median_days"],
                "mean_days": days["mean_days"],
            }
    return {
        "total": sum(by_kind.values()),
        "by_kind": by_kind,
        "by_status": by_status,
        "overall": overall,
        "monthly": monthly,
        "ccpa": ccpa,
    }


def _figures_in_python(requests, *, tz, this_year: int) -> dict:
    """The same figures from one pass over the requests (the embedded SQLite default, which has no median)."""
    rows = []
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
    months = defaultdict(list)
    for r in rows:
        months[r["month"]].append(r)
    return {
        "total": len(rows),
        "by_kind": Counter(r["kind"] for r in rows),
        "by_status": Counter(r["status"] for r in rows),
        "overall": _days(rows),
        "monthly": {m: {"received": len(group), **_days(group)} for m, group in months.items()},
        "ccpa_rows": [r for r in rows if r["jurisdiction"] == Jurisdiction.CCPA],
    }


def build_metrics(*, now: datetime | None = None) -> dict:
    """Everything the metrics page shows: on PostgreSQL from aggregate queries, so it costs the same each view."""
    tz = services.org_tz()
    # A repeat submission folded into the same person's open request is that request, not another one.
    requests = DataRequest.objects.filter(merged_into__isnull=True)
    # Every one of the last twelve months, an empty one as zeros: a gap in the chart would read as a trend.
    now = (now or timezone.now()).astimezone(tz)
    year, month = now.year, now.month
    periods = []
    for _step in range(MONTHS):
        periods.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    if connection.vendor == "postgresql":
        figures = _figures_in_sql(tz=tz)
        ccpa = _ccpa_report(figures["ccpa"], now.year)
    else:
        figures = _figures_in_python(requests, tz=tz, this_year=now.year)
        ccpa = ccpa_yearly(rows=figures["ccpa_rows"], this_year=now.year)
    empty = {"received": 0, **_days([])}
    monthly = []
    for first in reversed(periods):
        group = figures["monthly"].get(first.strftime("%Y-%m"), empty)
        monthly.append(
            {
                "month": first.strftime("%Y-%m"),
                "label": date_format(first, "M Y"),
                "received": group["received"],
                **{k: group[k] for k in ("closed", "median_days", "mean_days", "on_time_pct")},
            }
        )
    categories = [m["label"] for m in monthly]
    series = [
        charts.Series(_("Received"), "#417690", [m["received"] for m in monthly]),
        charts.Series(_("Answered (completed or denied)"), "#a35b00", [m["closed"] for m in monthly]),
    ]
    chart = charts.bar_chart(title=_("Requests received and answered per month"), categories=categories, series=series)
    by_kind, by_status = figures["by_kind"], figures["by_status"]
    return {
        "total": figures["total"],
        "by_kind": [(RequestKind(k).label, by_kind.get(k, 0)) for k in RequestKind.values],
        "by_status": [(RequestStatus(s).label, by_status.get(s, 0)) for s in RequestStatus.values],
        "overall": figures["overall"],
        "monthly": monthly,
        "chart": chart,
        "ccpa": ccpa,
    }


# The page's figures are counted at most this often; staff see when ("Figures as of 10:05").
METRICS_CACHE_SECONDS = 300


def cached_metrics(*, now: datetime | None = None) -> dict:
    """The metrics page's figures from the shared cache, counted again (``build_metrics``) every five minutes.

    Each language has its own copy (the labels are translated). A cache outage only means counting each view.
    """
    key = f"requests:metrics:v1:{translation.get_language()}"
    try:
        figures = cache.get(key)
    except Exception:  # the cache is down: count, as before
        figures = None
    if figures is None:
        figures = {**build_metrics(now=now), "as_of": timezone.now()}
        try:
            cache.set(key, figures, METRICS_CACHE_SECONDS)
        except Exception:
            pass
    return figures
