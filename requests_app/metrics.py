"""Figures for the staff metrics page: counts, time to close, on-time share, per month; CCPA §7102 per year."""

import statistics
from collections import Counter, defaultdict

from requests_app import services
from requests_app.models import DataRequest, RequestKind, RequestStatus

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
    "know": "Requests to know",
    "delete": "Requests to delete",
    "correct": "Requests to correct",
    "opt_out": "Requests to opt out of sale/sharing",
    "limit": "Requests to limit",
    "other": "Other requests",
}


def _days(rows) -> dict:
    days = [r["days"] for r in rows if r["days"] is not None]
    on_time = [r for r in rows if r["on_time"] is not None]
    return {
        "closed": len(days),
        "median_days": round(statistics.median(days), 1) if days else None,
        "mean_days": round(statistics.fmean(days), 1) if days else None,
        "on_time_pct": round(100 * sum(r["on_time"] for r in on_time) / len(on_time)) if on_time else None,
    }


def build_metrics() -> dict:
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
    monthly = []
    for month in sorted(months)[-12:]:
        group = months[month]
        monthly.append({"month": month, "received": len(group), **_days(group)})
    peak = max([m["received"] for m in monthly] + [1])
    bar_w, gap, height = 36, 14, 160
    for i, m in enumerate(monthly):
        m["x"] = 40 + i * (bar_w + gap)
        m["h_received"] = round(height * m["received"] / peak)
        m["h_closed"] = round(height * m["closed"] / peak)
        m["y_received"] = 10 + height - m["h_received"]
        m["y_closed"] = 10 + height - m["h_closed"]
        m["x_closed"] = m["x"] + bar_w // 2
    years = defaultdict(list)
    for r in rows:
        years[r["year"]].append(r)
    ccpa = []
    for year in sorted(years, reverse=True):
        groups = defaultdict(list)
        for r in years[year]:
            groups[CCPA_GROUPS.get(r["kind"], "other")].append(r)
        for key, label in CCPA_GROUP_LABELS.items():
            group = groups.get(key)
            if not group:
                continue
            ccpa.append(
                {
                    "year": year,
                    "label": label,
                    "received": len(group),
                    "complied": sum(r["status"] == S.COMPLETED for r in group),
                    "denied": sum(r["status"] == S.DENIED for r in group),
                    "median_days": _days(group)["median_days"],
                }
            )
    return {
        "total": len(rows),
        "by_kind": [(RequestKind(k).label, by_kind.get(k, 0)) for k in RequestKind.values],
        "by_status": [(RequestStatus(s).label, by_status.get(s, 0)) for s in RequestStatus.values],
        "overall": _days(rows),
        "monthly": monthly,
        "chart": {"width": 40 + len(monthly) * (bar_w + gap) + 10, "height": height + 40, "bar": bar_w // 2},
        "ccpa": ccpa,
    }
