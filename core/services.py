from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db import transaction

from audit import services as audit_services
from core.models import Organisation
from core.selectors import ORGANISATION_CACHE_KEY

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser


@transaction.atomic
def update_organisation(
    *, organisation: Organisation, actor: AbstractBaseUser | None = None, **fields: str
) -> Organisation:
    """Save the organisation's details (old and new values in the audit trail) and drop the cached copy."""
    stored = Organisation.objects.filter(pk=organisation.pk).first() if organisation.pk else None
    before = audit_services.snapshot(stored, list(fields)) if stored is not None else {}
    for name, value in fields.items():
        setattr(organisation, name, value)
    organisation.save()
    old, new = audit_services.changes(before, audit_services.snapshot(organisation, list(fields)))
    if new:
        audit_services.record_event(actor=actor, obj=organisation, verb="organisation_changed", old=old, new=new)
    # Now, and again once committed: a page served in between would cache the old details once more.
    cache.delete(ORGANISATION_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(ORGANISATION_CACHE_KEY))
    return organisation
