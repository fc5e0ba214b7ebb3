"""Changes an account holder makes to their own account (sign-in itself is django-allauth's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser


@transaction.atomic
def update_name(*, user: AbstractUser, name: str) -> AbstractUser:
    """Store the account holder's full name as first and last name (split at the first space)."""
    first, _sep, last = " ".join(name.split()).partition(" ")
    user.first_name, user.last_name = first[:150], last[:150]
    user.save(update_fields=["first_name", "last_name"])
    return user
