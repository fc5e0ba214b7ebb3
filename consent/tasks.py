from celery import shared_task

from consent import services
from core.retry import MAIL_RETRY, SCHEDULED_JOB_RETRY


@shared_task(name="consent.alert_refused_origin", **MAIL_RETRY)
def alert_refused_origin_task(refused_origin_pk: int) -> int:
    """Mail the privacy officers about a website address whose consent choices are refused."""
    return services.alert_refused_origin(refused_origin_pk=refused_origin_pk)


@shared_task(name="consent.summarise_consent", **SCHEDULED_JOB_RETRY, soft_time_limit=600, time_limit=660)
def summarise_consent_task() -> dict:
    """Bring the daily consent figures up to date with the log (idempotent; catches up after downtime)."""
    return services.summarise_consent()
