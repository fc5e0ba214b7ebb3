from celery import shared_task

from core.retry import MAIL_BATCH_RETRY, SCHEDULED_JOB_RETRY
from policies import services
from policies.models import ChangeNotice


@shared_task(
    name="policies.send_change_notice_batch",
    **MAIL_BATCH_RETRY,
    soft_time_limit=300,
    time_limit=360,
)
def send_change_notice_batch_task(notice_id: int) -> None:
    """Send one batch of a change notice, then queue the next batch while recipients remain."""
    notice = ChangeNotice.objects.filter(pk=notice_id).first()
    if notice is None:
        return
    if services.send_change_notice_batch(notice=notice):
        send_change_notice_batch_task.delay(notice_id)


@shared_task(
    name="policies.activate_due_versions",
    **SCHEDULED_JOB_RETRY,
    soft_time_limit=120,
    time_limit=180,
)
def activate_due_versions_task() -> int:
    """Bring scheduled versions whose effective date has come into force."""
    return len(services.activate_due_versions())
