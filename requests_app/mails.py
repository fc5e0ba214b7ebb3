"""Render and send a request's mails; called by ``tasks.send_request_mail_task`` after commit."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from core.mail import send_templated_mail
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


def _staff_recipients(data_request: DataRequest) -> list[str]:
    if data_request.assignee_id and data_request.assignee.email:
        return [data_request.assignee.email]
    from requests_app.services import PRIVACY_OFFICER_GROUP

    officers = list(
        get_user_model()
        .objects.filter(groups__name=PRIVACY_OFFICER_GROUP, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    return officers or [get_organisation().contact_email]


def send_request_mail(*, data_request_id: int, mail: str, extra: dict) -> int:
    """Send mail ``mail`` about request ``data_request_id``; returns the number of messages sent."""
    from requests_app import services

    data_request = DataRequest.objects.select_related("assignee").filter(pk=data_request_id).first()
    if data_request is None:
        return 0
    context = {
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
