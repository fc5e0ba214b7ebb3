"""The demo product's own processing that must respect the registry: marketing mail."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model

from core.mail import MARKETING, send_templated_mail
from demo.models import NewsletterSubscription

if TYPE_CHECKING:
    from collections.abc import Iterator

    from django.contrib.auth.models import AbstractUser


def newsletter_recipients(*, list_name: str = "product-news") -> Iterator[AbstractUser]:
    """Account holders subscribed to ``list_name`` who consented to marketing and did not restrict or object."""
    from consent.selectors import has_consent
    from registry.selectors import is_processing_allowed

    User = get_user_model()
    user_ids = (
        NewsletterSubscription.objects.filter(list_name=list_name, unsubscribed_at__isnull=True, user__isnull=False)
        .values_list("user_id", flat=True)
        .distinct()
    )
    for user in User.objects.filter(pk__in=user_ids, is_active=True).order_by("pk").iterator(chunk_size=500):
        if has_consent(user=user, purpose="marketing") and is_processing_allowed(user=user, purpose="marketing"):
            yield user


def send_newsletter(*, subject: str, body: str, list_name: str = "product-news", limit: int | None = None) -> int:
    """Send one marketing mail to every allowed recipient; returns how many were sent."""
    from consent.services import build_unsubscribe_url

    sent = 0
    for user in newsletter_recipients(list_name=list_name):
        if limit is not None and sent >= limit:
            break
        send_templated_mail(
            to=[user.email],
            template="mail/demo/newsletter",
            context={"subject": subject, "body": body, "name": user.first_name},
            category=MARKETING,
            list_unsubscribe_url=build_unsubscribe_url(user=user),
        )
        sent += 1
    return sent


def share_with_partner(*, user: AbstractUser) -> bool:
    """Send a customer's profile to the reseller partner, only with consent and unrestricted processing."""
    from consent.selectors import has_consent
    from registry.selectors import is_processing_allowed

    if not (
        has_consent(user=user, purpose="third_party_sharing")
        and is_processing_allowed(user=user, purpose="third_party_sharing")
    ):
        return False
    # The demo has no real partner; a real product would call the partner's API here.
    return True
