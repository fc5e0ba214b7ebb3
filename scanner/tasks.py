from celery import shared_task
from django.conf import settings

from core.retry import MAIL_RETRY
from scanner import services


@shared_task(
    name="scanner.run_scan",
    soft_time_limit=settings.SCANNER_TASK_SECONDS + 120,
    time_limit=settings.SCANNER_TASK_SECONDS + 180,
)
def run_scan_task(scan_pk: int) -> None:
    """Scan a website for at most SCANNER_TASK_SECONDS from its checkpoint; the rest goes on in a new task."""
    services.continue_scan(scan_pk=scan_pk)


@shared_task(name="scanner.scan_websites")
def scan_websites_task() -> int:
    """The monthly scan: queue a scan of every website with addresses (and resume stalled scans)."""
    return len(services.scan_websites())


@shared_task(name="scanner.alert_new_findings", **MAIL_RETRY)
def alert_new_findings_task(scan_pk: int) -> int:
    """Mail the privacy officers the findings that are new since the website's previous scan."""
    return services.alert_new_findings(scan_pk=scan_pk)
