"""Celery tasks: thin wrappers that load by id, call a service, and own retries."""

from celery import shared_task

from core.retry import MAIL_RETRY, SCHEDULED_JOB_RETRY


@shared_task(
    name="requests_app.send_request_mail",
    **MAIL_RETRY,
    soft_time_limit=60,
    time_limit=90,
)
def send_request_mail_task(data_request_id: int, mail: str, extra: dict | None = None) -> int:
    """Send one of a request's mails (acknowledgement, verification, ...) to its requester or staff."""
    from requests_app.mails import send_request_mail

    return send_request_mail(data_request_id=data_request_id, mail=mail, extra=extra or {})


@shared_task(
    name="requests_app.send_deadline_reminders",
    **SCHEDULED_JOB_RETRY,
    soft_time_limit=300,
    time_limit=360,
)
def send_deadline_reminders_task() -> dict:
    """Remind assignees before due dates and escalate unassigned or overdue requests (idempotent)."""
    from requests_app.services import send_deadline_reminders

    return send_deadline_reminders()


@shared_task(
    name="requests_app.expire_unverified_requests",
    **SCHEDULED_JOB_RETRY,
    soft_time_limit=300,
    time_limit=360,
)
def expire_unverified_requests_task() -> dict:
    """Expire requests left unverified too long and remind requesters once before (idempotent)."""
    from requests_app.services import expire_unverified_requests

    return expire_unverified_requests()


@shared_task(name="requests_app.summarise_requests", **SCHEDULED_JOB_RETRY, soft_time_limit=600, time_limit=660)
def summarise_requests_task() -> dict:
    """Bring the monthly request figures up to date (idempotent; catches up after downtime)."""
    from requests_app import services

    return services.summarise_requests()
