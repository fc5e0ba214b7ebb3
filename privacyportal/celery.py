"""The Celery app: configured from Django settings (CELERY_* names), tasks autodiscovered per app.

Only the portal's scheduled jobs may run from a schedule: beat refuses to send anything else
(``retention.schedulers``) and a worker refuses a message that beat sent for another task.
"""

import os

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacyportal.settings")

# The one list of tasks a schedule may run. Each is a thin wrapper around a service, takes no
# arguments, and is also a management command. Staff see and run them under Retention > Scheduled jobs.
SCHEDULED_JOBS: frozenset[str] = frozenset(
    {
        "retention.enforce_retention",
        "retention.notify_inactive_accounts",
        "retention.execute_due_account_deletions",
        "requests_app.send_deadline_reminders",
        "requests_app.expire_unverified_requests",
        "registry.purge_expired_exports",
        "registry.resume_stalled_runs",
        "fulfilment.remind_system_tasks",
        "policies.activate_due_versions",
        "consent.summarise_consent",
        "requests_app.summarise_requests",
        "scanner.scan_websites",
    }
)
# Celery's own housekeeping, which the database scheduler adds by itself: allowed on a schedule too.
CELERY_BUILTIN_JOBS: frozenset[str] = frozenset({"celery.backend_cleanup"})
# django-celery-beat puts this header on every message it sends (and on its "run" admin action).
BEAT_HEADER = "periodic_task_name"


class NotAScheduledJob(Exception):
    """A schedule tried to run a task that is not one of the portal's scheduled jobs."""


def may_run_on_schedule(task_name: str) -> bool:
    """Whether a schedule may run ``task_name``."""
    return task_name in SCHEDULED_JOBS or task_name in CELERY_BUILTIN_JOBS


def sent_by_schedule(request) -> str:
    """The periodic task's name when beat sent this message, else ""."""
    name = getattr(request, BEAT_HEADER, None)  # worker: message headers become request attributes
    if not name:
        name = (getattr(request, "headers", None) or {}).get(BEAT_HEADER)  # eager apply keeps them apart
    return name or ""


class PortalTask(Task):
    """Every task of the portal: one sent by a schedule runs only if it is a scheduled job."""

    def before_start(self, task_id, args, kwargs):
        schedule = sent_by_schedule(self.request)
        if schedule and not may_run_on_schedule(self.name):
            # Raised, not ignored: the failure is logged and the privacy officers get the job-failure alert.
            raise NotAScheduledJob(
                f"Refused: the schedule {schedule!r} asked for {self.name}, which is not one of the portal's "
                "scheduled jobs."
            )


app = Celery("privacyportal", task_cls=PortalTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
