"""Render and send a request's mails; called by ``tasks.send_request_mail_task`` after commit."""

import logging

from django.conf import settings
from django.urls import reverse

from core import ratelimit
from core.mail import send_templated_mail
from core.permissions import officer_emails
from core.selectors import get_organisation
from requests_app.models import DataRequest, EventKind

REQUESTER_MAILS = {
    "acknowledgement",
    "verification",
    "verification_reminder",
    "information_requested",
    "extended",
    "completed",
    "denied",
    "message",
}
# Mails anyone can cause by typing an address into the intake form (or asking for a new link): before the
# address is verified, they are capped per address and day (DSR_UNVERIFIED_MAILS_PER_ADDRESS).
UNSOLICITED_MAILS = {"acknowledgement", "verification", "verification_reminder"}
logger = logging.getLogger(__name__)


def _staff_recipients(data_request: DataRequest) -> list[str]:
    if data_request.assignee_id and data_request.assignee.email:
        return [data_request.assignee.email]
    return officer_emails() or [get_organisation().contact_email]


def send_request_mail(*, data_request_id: int, mail: str, extra: dict) -> int:
    """Send mail ``mail`` about request ``data_request_id``; returns the number of messages sent."""
    from requests_app import services

    data_request = DataRequest.objects.select_related("assignee").filter(pk=data_request_id).first()
    if data_request is None:
        return 0
    unverified = data_request.verified_at is None
    if unverified and mail in UNSOLICITED_MAILS and not _within_address_mail_cap(data_request.requester_email):
        logger.warning("Mail %s for %s not sent: the address had its mails for today.", mail, data_request.reference)
        return 0
    context = {
        # Until the sender proved they control the address, the mail carries nothing they typed: the name
        # field could hold any sentence or link, sent under the organisation's name to anyone's address.
        "greeting_name": "" if unverified else data_request.requester_name,
        "data_request": data_request,
        "status_url": services.status_url(data_request),
        "extra": extra,
        "due_date": data_request.due_date,
    }
    if mail in ("verification", "verification_reminder"):
        if data_request.verified_at is not None:
            return 0
        token = services.issue_verification_token(data_request=data_request)
        context["verification_url"] = settings.SITE_URL + reverse("requests_app:verify", kwargs={"token": token})
        context["ttl_hours"] = int(settings.DSR_VERIFICATION_TTL.total_seconds() // 3600)
        services.record_event(data_request, actor="system", kind=EventKind.VERIFICATION_SENT)
    if mail == "message":
        context["last_message"] = data_request.messages.filter(from_staff=True).order_by("-created_at").first()
    if mail == "staff_message":
        context["last_message"] = data_request.messages.filter(from_staff=False).order_by("-created_at").first()
        context["admin_url"] = settings.SITE_URL + reverse(
            "admin:requests_app_datarequest_change", args=[data_request.pk]
        )
        return send_templated_mail(
            to=_staff_recipients(data_request),
            template="mail/requests_app/staff_message",
            context=context,
            language=settings.LANGUAGE_CODE,
        )
    if mail not in REQUESTER_MAILS:
        raise ValueError(f"Unknown request mail {mail!r}")
    return send_templated_mail(
        to=[data_request.requester_email],
        template=f"mail/requests_app/{mail}",
        context=context,
        language=data_request.language,
    )


def _within_address_mail_cap(email: str) -> bool:
    return ratelimit.hit(
        scope="dsr-unverified-mail",
        key=ratelimit.email_key(email),
        rate=settings.DSR_UNVERIFIED_MAILS_PER_ADDRESS,
    )
