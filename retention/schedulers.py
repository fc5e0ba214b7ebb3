"""The beat scheduler: django-celery-beat's database schedules, but only for the portal's scheduled jobs."""

import logging

from django_celery_beat.schedulers import DatabaseScheduler

from privacyportal.celery import may_run_on_schedule

logger = logging.getLogger(__name__)


class ScheduledJobsScheduler(DatabaseScheduler):
    """Sends a due entry only when its task is a scheduled job; any other entry is logged and skipped."""

    def apply_async(self, entry, producer=None, advance=True, **kwargs):
        if not may_run_on_schedule(entry.task):
            logger.warning(
                "Refused to send the schedule %r: %s is not one of the portal's scheduled jobs.", entry.name, entry.task
            )
            return None
        return super().apply_async(entry, producer=producer, advance=advance, **kwargs)
