"""Reads about accounts and their e-mail addresses (sign-in itself is django-allauth's)."""

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db.models import QuerySet


def list_email_addresses(*, user) -> QuerySet[EmailAddress]:
    """The account's e-mail addresses, the primary one first."""
    return EmailAddress.objects.filter(user=user).order_by("-primary", "email")


def owns_verified_email(*, user, email: str) -> bool:
    """Whether ``email`` is one of the signed-in account's verified addresses (case ignored)."""
    if user is None or not user.is_authenticated:
        return False
    return EmailAddress.objects.filter(user=user, email__iexact=email.strip(), verified=True).exists()


def account_for_verified_email(*, email: str):
    """The account whose verified address ``email`` is, or None (an unverified address names nobody)."""
    row = EmailAddress.objects.filter(email__iexact=email.strip(), verified=True).select_related("user").first()
    return row.user if row else None


def login_credentials(*, login: str) -> dict:
    """allauth's credentials for what was typed at a login: the account's e-mail address, whichever was typed."""
    if "@" in login:
        return {"email": login}
    user = get_user_model().objects.filter(username__iexact=login).exclude(email="").first()
    return {"email": user.email} if user is not None else {"username": login}
