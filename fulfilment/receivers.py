"""Receivers of other apps' documented hooks: verified requests, settled request mails, logins."""

import logging

from django.contrib import messages
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


def on_request_verified(sender, data_request, **kwargs):
    from fulfilment import services

    try:
        services.start_automatic_fulfilment(data_request=data_request)
    except Exception:
        # Verification already happened; fulfilment can be started again from admin.
        logger.exception("Automatic fulfilment of %s failed", data_request.reference)


def on_request_mail_settled(sender, data_request_id, mail, **kwargs):
    """The completion mail went out, or its retries ran out: the erasure request's own name and address
    are no longer needed and can be sealed."""
    if mail != "completed":
        return
    from fulfilment import services

    services.seal_after_completion_mail(data_request_id=data_request_id)


def on_consent_withdrawn(sender, user, purpose, source, gpc=False, **kwargs):
    """A known person withdrew a consent or sent GPC: the recipients that declare it are told."""
    from fulfilment import propagation

    try:
        propagation.propagate_consent(user=user, purpose=purpose, gpc=gpc)
    except Exception:
        # The consent itself is recorded; the ledger shows who was not told, and staff can send again.
        logger.exception("Telling the recipients of a withdrawn consent failed")


def on_user_logged_in(sender, request, user, **kwargs):
    """A login proves the account is used, and offers to cancel a pending deletion."""
    from fulfilment.lifecycle import cancel_inactivity_notices, pending_deletion

    cancel_inactivity_notices(user=user)
    deletion = pending_deletion(user=user)
    if deletion is not None and request is not None:
        messages.warning(
            request,
            format_html(
                '{} <a href="{}">{}</a>',
                _("Your account is scheduled for deletion on %(date)s.")
                % {"date": formats.date_format(timezone.localtime(deletion.execute_after), "j F Y")},
                reverse("fulfilment:cancel_deletion"),
                _("Keep my account"),
            ),
        )


def connect() -> None:
    from allauth.account.signals import user_logged_in

    from consent.signals import consent_withdrawn
    from requests_app.signals import request_mail_settled, request_verified

    request_verified.connect(on_request_verified, dispatch_uid="fulfilment.on_request_verified")
    request_mail_settled.connect(on_request_mail_settled, dispatch_uid="fulfilment.on_request_mail_settled")
    user_logged_in.connect(on_user_logged_in, dispatch_uid="fulfilment.on_user_logged_in")
    consent_withdrawn.connect(on_consent_withdrawn, dispatch_uid="fulfilment.on_consent_withdrawn")
