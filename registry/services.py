"""Writes of the declarations layer: legal holds, which erasure and retention must honour."""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.permissions import require_perm
from registry.models import LegalHold
from registry.sites import site

logger = logging.getLogger(__name__)


@transaction.atomic
def place_legal_hold(
    *, reason: str, actor=None, user=None, email: str = "", dataset: str = "", ends_at=None
) -> LegalHold:
    """Put a subject or a dataset on hold: erasure and retention skip it until it ends."""
    if not reason.strip():
        raise ValidationError(_("A legal hold needs a reason."))
    if dataset and not site.is_registered(dataset):
        raise ValidationError(_("Unknown dataset %(label)s.") % {"label": dataset})
    if not (user or email or dataset):
        raise ValidationError(_("A legal hold needs a subject or a dataset."))
    return LegalHold.objects.create(
        user=user, email=email, dataset=dataset, reason=reason, ends_at=ends_at, created_by=actor
    )


@transaction.atomic
def release_legal_hold(*, hold: LegalHold, actor=None) -> LegalHold:
    """End a hold now, recording who did (``actor`` None: the system). Held data becomes erasable again."""
    require_perm(actor, "registry.change_legalhold", _("You may not release legal holds."))
    hold.released_at = timezone.now()
    hold.released_by = actor
    hold.save(update_fields=["released_at", "released_by"])
    logger.info("Legal hold %s released by %s", hold.pk, getattr(actor, "pk", "the system"))
    return hold
