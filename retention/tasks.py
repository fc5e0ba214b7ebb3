"""Thin Celery wrappers around retention's services; each also runs as a management command."""

import logging

from celery import shared_task

from core.retry import SCHEDULED_JOB_RETRY

logger = logging.getLogger(__name__)


@shared_task(
    name="retention.enforce_retention",
    **SCHEDULED_JOB_RETRY,
    soft_time_limit=3 * 3600,
    time_limit=3 * 3600 + 300,
    acks_late=True,
)
def enforce_retention_task(policy_name: str | None = None) -> dict:
    """Enforce the retention policies and write a run report; a run already in progress keeps this one out."""
    from retention.enforcement import RunLocked, enforce_retention
    from retention.models import RunStatus
    from retention.services import alert_job_failure

    try:
        run = enforce_retention(policy_name=policy_name, trigger="schedule")
    except RunLocked as exc:
        logger.info("%s", exc)
        return {"status": "locked"}
    if run.status == RunStatus.FAILED:
        # Each policy's error is caught so the others still run: the task succeeds, so say it here.
        failed = run.items.exclude(errors="").values_list("policy_name", "errors")
        alert_job_failure(
            task_name="retention.enforce_retention",
            error="\n".join(f"{name}: {errors}" for name, errors in failed) or f"Run {run.pk} failed.",
        )
    return {"run": run.pk, "status": run.status}
