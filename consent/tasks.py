from celery import shared_task

from consent import services
from core.retry import MAIL_RETRY


@shared_task(name="consent.alert_refused_origin", **MAIL_RETRY)
def alert_refused_origin_task(refused_origin_pk: int) -> int:
    """Mail the privacy officers about a website address whose consent choices are refused."""
    return services.alert_refused_origin(refused_origin_pk=refused_origin_pk)
