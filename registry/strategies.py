"""Erasure strategies: what happens to a registered field when its subject is erased."""

import hashlib
import hmac
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

MASK_TEXT = "[erased]"
PSEUDONYM_PREFIX = "psn-"
PSEUDONYM_LENGTH = len(PSEUDONYM_PREFIX) + 32


class Strategy(models.TextChoices):
    DELETE = "delete", _("delete the row")
    NULL = "null", _("clear the field")
    MASK = "mask", _("replace with fixed text")
    PSEUDONYMISE = "pseudonymise", _("pseudonymise (keyed hash)")
    KEEP = "keep", _("keep (legal reason)")


def pseudonymise(value: str) -> str:
    """Keyed HMAC-SHA256 of ``value``: stable for linking proof, not reversible without the key."""
    if value is None or value == "":
        return value
    if str(value).startswith(PSEUDONYM_PREFIX):
        return str(value)  # already a pseudonym: keep erasure idempotent
    digest = hmac.new(
        str(settings.PSEUDONYMISATION_KEY).encode(), str(value).strip().lower().encode(), hashlib.sha256
    ).hexdigest()
    return PSEUDONYM_PREFIX + digest[:32]


def pseudonymise_uuid(value):
    """Keyed pseudonym of a UUID, itself a UUID (for UUID columns such as consent ids)."""
    if value is None:
        return None
    digest = hmac.new(str(settings.PSEUDONYMISATION_KEY).encode(), str(value).encode(), hashlib.sha256).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


def pseudonymise_for(field, value):
    """The pseudonym of ``value`` suited to ``field``'s column type."""
    if isinstance(field, models.UUIDField):
        return pseudonymise_uuid(value)
    return pseudonymise(value)


def mask(value):
    """The fixed replacement text (empty values stay empty)."""
    return value if value in (None, "") else MASK_TEXT
