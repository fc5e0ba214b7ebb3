"""Reads for website scans: the list with its counts, a website's last scans, the dashboard's figures."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from consent.models import Property
from scanner.models import ScanStatus, WebsiteScan


def scans_with_counts() -> QuerySet[WebsiteScan]:
    """Every scan with its number of findings and of findings new since the previous scan."""
    return (
        WebsiteScan.objects.select_related("property", "created_by")
        .defer("progress", "screenshot")
        .annotate(n_findings=Count("findings"), n_new=Count("findings", filter=Q(findings__is_new=True)))
    )


def last_scans(*, prop: Property) -> QuerySet[WebsiteScan]:
    """A website's scans, newest first."""
    return scans_with_counts().filter(property=prop)


def latest_findings_per_website() -> list[dict]:
    """Per website, its latest finished scan: findings, new ones, and whether something runs before consent."""
    out = []
    for prop in Property.objects.order_by("name"):
        scan = scans_with_counts().filter(property=prop, status=ScanStatus.DONE).order_by("-pk").first()
        if scan is not None and scan.n_findings:
            out.append({"website": prop.name, "scan": scan, "findings": scan.n_findings, "new": scan.n_new})
    return out
