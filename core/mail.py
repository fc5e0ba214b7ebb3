"""One way to send the portal's e-mails: HTML and text, in the recipient's language.

Service mails (request updates, policy notices) carry no unsubscribe link and
cannot be opted out of. Marketing mails must pass ``list_unsubscribe_url``:
it becomes an RFC 8058 one-click ``List-Unsubscribe`` header.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from core.selectors import get_organisation

SERVICE = "service"
MARKETING = "marketing"


def send_templated_mail(
    *,
    to: list[str],
    template: str,
    context: dict,
    language: str | None = None,
    category: str = SERVICE,
    list_unsubscribe_url: str | None = None,
    attachments: list[tuple[str, bytes, str]] | None = None,
) -> int:
    """Render ``<template>_subject.txt``, ``_body.txt`` and ``_body.html`` and send them."""
    if category == MARKETING and not list_unsubscribe_url:
        raise ValueError("Marketing mail needs a one-click unsubscribe URL.")
    ctx = {"organisation": get_organisation(), "site_url": settings.SITE_URL, **context}
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"{template}_subject.txt", ctx).split())
        text = render_to_string(f"{template}_body.txt", ctx)
        html = render_to_string(f"{template}_body.html", ctx)
    headers = {"X-Portal-Mail-Category": category}
    if category == SERVICE:
        headers["Auto-Submitted"] = "auto-generated"
    else:
        headers["List-Unsubscribe"] = f"<{list_unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg = EmailMultiAlternatives(subject=subject, body=text, to=to, headers=headers)
    msg.attach_alternative(html, "text/html")
    for name, content, mimetype in attachments or []:
        msg.attach(name, content, mimetype)
    return msg.send()
