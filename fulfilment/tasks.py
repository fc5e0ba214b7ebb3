"""Thin Celery wrappers around fulfilment services.

Task names are public: schedules stored in the database and messages already queued refer to them, so
they keep the names they had before fulfilment became an app of its own.
"""

from celery import shared_task

from core.retry import CONNECTED_SYSTEM_RETRY, SCHEDULED_JOB_RETRY
from systems.engine import SystemUnavailable


@shared_task(
    name="registry.build_export",
    acks_late=True,
    soft_time_limit=3600,
    time_limit=3700,
    autoretry_for=(SystemUnavailable,),
    **CONNECTED_SYSTEM_RETRY,
)
def build_export_task(export_id: str) -> str:
    """Build one access/portability export ZIP."""
    from fulfilment.models import DataExport
    from fulfilment.services import build_export

    export = DataExport.objects.filter(pk=export_id).first()
    if export is None:
        return "missing"
    return build_export(export=export).state


@shared_task(
    name="registry.execute_erasure",
    acks_late=True,
    soft_time_limit=3600,
    time_limit=3700,
    autoretry_for=(SystemUnavailable,),
    **CONNECTED_SYSTEM_RETRY,
)
def execute_erasure_task(run_id: int) -> str:
    """Run or resume an approved erasure."""
    from fulfilment.models import ErasureRun
    from fulfilment.services import execute_erasure

    run = ErasureRun.objects.select_related("data_request").get(pk=run_id)
    return execute_erasure(data_request=run.data_request).state


@shared_task(name="registry.seal_erasure", acks_late=True)
def seal_erasure_task(run_id: int) -> bool:
    """Pseudonymise the erasure request itself (no-op if the completion mail already sealed it)."""
    from fulfilment.models import ErasureRun
    from fulfilment.services import seal_erasure

    run = ErasureRun.objects.filter(pk=run_id).first()
    return seal_erasure(run=run) if run is not None else False


@shared_task(
    name="registry.purge_expired_exports",
    **SCHEDULED_JOB_RETRY,
    soft_time_limit=600,
    time_limit=660,
)
def purge_expired_exports_task() -> int:
    """Delete export files whose download link has expired."""
    from fulfilment.services import purge_expired_exports

    return purge_expired_exports()


@shared_task(
    name="registry.resume_stalled_runs",
    **SCHEDULED_JOB_RETRY,
    soft_time_limit=240,
    time_limit=270,
)
def resume_stalled_runs_task() -> dict:
    """The watchdog: queue again the exports and erasures whose worker died mid-run."""
    from fulfilment.recovery import resume_stalled_runs

    return resume_stalled_runs()


@shared_task(
    name="retention.notify_inactive_accounts",
    **SCHEDULED_JOB_RETRY,
    soft_time_limit=1800,
    time_limit=1900,
)
def notify_inactive_accounts_task() -> dict:
    """Warn inactive accounts and delete those whose grace period ended without a login."""
    from fulfilment.lifecycle import notify_inactive_accounts

    return notify_inactive_accounts()


@shared_task(
    name="retention.execute_due_account_deletions",
    **SCHEDULED_JOB_RETRY,
    soft_time_limit=1800,
    time_limit=1900,
)
def execute_due_account_deletions_task() -> dict:
    """Erase the accounts whose self-service deletion grace period has ended."""
    from fulfilment.lifecycle import execute_due_account_deletions

    return execute_due_account_deletions()


@shared_task(name="fulfilment.send_system_task", bind=True, acks_late=True, soft_time_limit=300, time_limit=330)
def send_system_task_task(self, task_id: int) -> str:
    """Carry out one connected-system task; an HTTP system that does not answer is retried with backoff, then
    handed to its owner."""
    from django.conf import settings

    from fulfilment import connected
    from fulfilment.models import SystemTask

    task = SystemTask.objects.select_related("data_request").filter(pk=task_id).first()
    if task is None:
        return "missing"
    try:
        return connected.send_system_task(task=task).state
    except SystemUnavailable as exc:
        if self.request.retries >= settings.SYSTEM_TASK_HTTP_RETRIES or not exc.retryable:
            task.refresh_from_db()
            return connected.give_task_to_owner(task=task).state
        delay = min(30 * 2**self.request.retries, 1800)
        raise self.retry(countdown=delay) from exc


@shared_task(
    name="fulfilment.remind_system_tasks",
    **SCHEDULED_JOB_RETRY,
    soft_time_limit=300,
    time_limit=360,
)
def remind_system_tasks_task() -> dict:
    """Remind system owners before their tasks are due, and escalate overdue tasks to the privacy officers."""
    from fulfilment.connected import remind_system_tasks

    return remind_system_tasks()


@shared_task(name="fulfilment.send_propagation", bind=True, acks_late=True, soft_time_limit=300, time_limit=330)
def send_propagation_task(self, row_id: int) -> str:
    """Tell one recipient of an opt-out or a withdrawn consent; a web service that does not answer is retried
    with backoff, then the notice is marked failed and the privacy officers are alerted."""
    from django.conf import settings

    from fulfilment import propagation
    from fulfilment.models import Propagation

    row = Propagation.objects.filter(pk=row_id).first()
    if row is None:
        return "missing"
    try:
        return propagation.send_propagation(row=row).state
    except SystemUnavailable as exc:
        if self.request.retries >= settings.SYSTEM_TASK_HTTP_RETRIES or not exc.retryable:
            return propagation.fail_propagation(row=row, reason=str(exc.reason)).state
        raise self.retry(countdown=min(30 * 2**self.request.retries, 1800)) from exc
