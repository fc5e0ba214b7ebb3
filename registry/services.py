"""Writes of the declarations layer: legal holds, which erasure and retention must honour, and the privacy
officer's wording of the record of processing."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit_services
from core.permissions import require_perm
from registry import selectors
from registry.models import LegalHold, ProcessingActivity
from registry.sites import site

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

logger = logging.getLogger(__name__)


HOLD_FIELDS = ("user", "email", "dataset", "reason", "ends_at")


def _check_hold(*, reason: str, user: AbstractBaseUser | None, email: str, dataset: str) -> None:
    if not reason.strip():
        raise ValidationError(_("A legal hold needs a reason."))
    if dataset and not site.is_known_dataset(dataset):
        raise ValidationError(_("Unknown dataset %(label)s.") % {"label": dataset})
    if not (user or email or dataset):
        raise ValidationError(_("A legal hold needs a subject or a dataset."))


@transaction.atomic
def place_legal_hold(
    *,
    reason: str,
    actor: AbstractBaseUser | None = None,
    user: AbstractBaseUser | None = None,
    email: str = "",
    dataset: str = "",
    ends_at: datetime | None = None,
) -> LegalHold:
    """Put a subject or a dataset on hold: erasure and retention skip it until it ends."""
    require_perm(actor, "registry.add_legalhold", _("You may not place legal holds."))
    _check_hold(reason=reason, user=user, email=email, dataset=dataset)
    hold = LegalHold.objects.create(
        user=user, email=email, dataset=dataset, reason=reason, ends_at=ends_at, created_by=actor
    )
    audit_services.record_event(
        actor=actor, obj=hold, verb="hold_placed", new=audit_services.snapshot(hold, HOLD_FIELDS), note=reason
    )
    return hold


@transaction.atomic
def update_legal_hold(*, hold: LegalHold, actor: AbstractBaseUser | None, **values: object) -> LegalHold:
    """Change a hold's subject, dataset, reason or end, recording the old and new values."""
    require_perm(actor, "registry.change_legalhold", _("You may not change legal holds."))
    unknown = set(values) - set(HOLD_FIELDS)
    if unknown:
        raise ValueError(f"Not a field of a legal hold: {sorted(unknown)}")
    before = audit_services.snapshot(LegalHold.objects.get(pk=hold.pk), HOLD_FIELDS)
    for name, value in values.items():
        setattr(hold, name, value)
    _check_hold(reason=hold.reason, user=hold.user, email=hold.email, dataset=hold.dataset)
    hold.save(update_fields=list(values))
    old, new = audit_services.changes(before, audit_services.snapshot(hold, HOLD_FIELDS))
    if new:
        audit_services.record_event(actor=actor, obj=hold, verb="hold_changed", old=old, new=new)
    return hold


@transaction.atomic
def release_legal_hold(*, hold: LegalHold, actor: AbstractBaseUser | None = None) -> LegalHold:
    """End a hold now, recording who did (``actor`` None: the system). Held data becomes erasable again."""
    require_perm(actor, "registry.change_legalhold", _("You may not release legal holds."))
    hold.released_at = timezone.now()
    hold.released_by = actor
    hold.save(update_fields=["released_at", "released_by"])
    audit_services.record_event(actor=actor, obj=hold, verb="hold_released", old="active", new="released")
    logger.info("Legal hold %s released by %s", hold.pk, getattr(actor, "pk", "the system"))
    return hold


ACTIVITY_FIELDS = (
    "purpose",
    "name",
    "description",
    "data_categories",
    "data_subjects",
    "recipients",
    "transfers",
    "retention_note",
    "security_measures",
    "officer_added",
)


def _clean_transfers(transfers: list[dict]) -> list[dict]:
    out = []
    for t in transfers:
        row = {k: str(t.get(k, "")).strip() for k in ("recipient", "country", "safeguard")}
        if not (row["recipient"] and row["country"]):
            raise ValidationError(_("A transfer names its recipient and the country the data goes to."))
        out.append(row)
    return out


@transaction.atomic
def save_processing_activity(
    *,
    actor: AbstractBaseUser | None,
    purpose: str,
    name: str = "",
    description: str = "",
    data_categories: str = "",
    data_subjects: str = "",
    recipients: str = "",
    transfers: list[dict] | None = None,
    retention_note: str = "",
    security_measures: str = "",
) -> ProcessingActivity:
    """Word, complete or add a processing activity of the record of processing, recording old and new values."""
    require_perm(actor, "registry.change_processingactivity", _("You may not change the record of processing."))
    purpose = purpose.strip()
    if not purpose:
        raise ValidationError(_("A processing activity needs a purpose."))
    officer_added = purpose not in selectors.declared_purposes()
    if officer_added and not name.strip():
        raise ValidationError(_("An activity you add needs a name."))
    values = {
        "name": name.strip(),
        "description": description.strip(),
        "data_categories": data_categories.strip(),
        "data_subjects": data_subjects.strip(),
        "recipients": recipients.strip(),
        "transfers": _clean_transfers(transfers or []),
        "retention_note": retention_note.strip(),
        "security_measures": security_measures.strip(),
        "officer_added": officer_added,
    }
    activity = ProcessingActivity.objects.select_for_update().filter(purpose=purpose).first()
    if activity is None:
        activity = ProcessingActivity.objects.create(purpose=purpose, **values)
        audit_services.record_event(
            actor=actor,
            obj=activity,
            verb="activity_added" if officer_added else "activity_worded",
            new=audit_services.snapshot(activity, ACTIVITY_FIELDS),
        )
        return activity
    before = audit_services.snapshot(activity, ACTIVITY_FIELDS)
    for field_name, value in values.items():
        setattr(activity, field_name, value)
    activity.save()
    old, new = audit_services.changes(before, audit_services.snapshot(activity, ACTIVITY_FIELDS))
    if new:
        audit_services.record_event(actor=actor, obj=activity, verb="activity_changed", old=old, new=new)
    return activity


@transaction.atomic
def remove_processing_activity(*, actor: AbstractBaseUser | None, activity: ProcessingActivity) -> None:
    """Drop the officer's wording (a declared activity goes back to its declarations; an added one goes)."""
    require_perm(actor, "registry.delete_processingactivity", _("You may not change the record of processing."))
    activity = ProcessingActivity.objects.select_for_update().get(pk=activity.pk)
    before = audit_services.snapshot(activity, ACTIVITY_FIELDS)
    audit_services.record_event(actor=actor, obj=activity, verb="activity_removed", old=before)
    activity.delete()
