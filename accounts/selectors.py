"""Reads about accounts and their e-mail addresses (sign-in itself is django-allauth's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser
    from django.db.models import QuerySet


def list_email_addresses(*, user: AbstractBaseUser) -> QuerySet[EmailAddress]:
    """The account's e-mail addresses, the primary one first."""
    return EmailAddress.objects.filter(user=user).order_by("-primary", "email")


def owns_verified_email(*, user: AbstractBaseUser | AnonymousUser | None, email: str) -> bool:
    """Whether ``email`` is one of the signed-in account's verified addresses (case ignored)."""
    if user is None or not user.is_authenticated:
        return False
    return EmailAddress.objects.filter(user=user, email__iexact=email.strip(), verified=True).exists()


def account_for_verified_email(*, email: str) -> AbstractBaseUser | None:
    """The account whose verified address ``email`` is, or None (an unverified address names nobody)."""
    row = EmailAddress.objects.filter(email__iexact=email.strip(), verified=True).select_related("user").first()
    return row.user if row else None


def login_credentials(*, login: str) -> dict:
    """allauth's credentials for what was typed at a login: the account's e-mail address, whichever was typed."""
    if "@" in login:
        return {"email": login}
    user = get_user_model().objects.filter(username__iexact=login).exclude(email="").first()
    return {"email": user.email} if user is not None else {"username": login}
