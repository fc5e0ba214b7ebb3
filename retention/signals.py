"""Receivers: job failure alerts (Celery) and seeding after migrate. Connected in RetentionConfig.ready."""

import logging

logger = logging.getLogger(__name__)


def on_task_failure(sender=None, task_id=None, exception=None, **kwargs):
    """A task failed for good (retries exhausted): tell the privacy officers."""
    from retention.services import alert_job_failure

    task_name = getattr(sender, "name", None) or str(sender)
    try:
        alert_job_failure(task_name=task_name, error=f"{type(exception).__name__}: {exception}", task_id=task_id or "")
    except Exception:  # the alert must never mask the original failure
        logger.exception("Could not send the failure alert for %s", task_name)


def on_post_migrate(sender, **kwargs):
    """Seed missing retention policies and job schedules once the tables exist (staff edits are kept)."""
    from retention.policies import sync_policies
    from retention.services import ensure_scheduled_jobs

    try:
        sync_policies()
    except Exception:  # a half-migrated database must not break migrate
        logger.exception("Could not seed retention policies")
    try:
        ensure_scheduled_jobs()
    except Exception:
        logger.exception("Could not schedule the portal's jobs")


def connect() -> None:
    from celery.signals import task_failure

    task_failure.connect(on_task_failure, dispatch_uid="retention.on_task_failure", weak=False)
