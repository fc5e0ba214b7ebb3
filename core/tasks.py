from celery import shared_task

from core.mail import send_templated_mail

# Every scheduled job retries a few times on transient errors (database or broker connection, SMTP)
# instead of waiting for its next schedule: spread as ``@shared_task(..., **SCHEDULED_JOB_RETRY)``.
SCHEDULED_JOB_RETRY = {"autoretry_for": (OSError,), "retry_backoff": 60, "max_retries": 3}


@shared_task(
    name="core.send_templated_mail",
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_jitter=True,
    max_retries=8,
    soft_time_limit=60,
    time_limit=90,
)
def send_templated_mail_task(**kwargs) -> int:
    """Send one templated mail (see core.mail.send_templated_mail), retrying while the SMTP server is away."""
    return send_templated_mail(**kwargs)
