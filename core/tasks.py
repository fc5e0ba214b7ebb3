from celery import shared_task

from core.mail import send_templated_mail
from core.retry import MAIL_RETRY


@shared_task(
    name="core.send_templated_mail",
    **MAIL_RETRY,
    soft_time_limit=60,
    time_limit=90,
)
def send_templated_mail_task(**kwargs) -> int:
    """Send one templated mail (see core.mail.send_templated_mail), retrying while the SMTP server is away."""
    return send_templated_mail(**kwargs)
