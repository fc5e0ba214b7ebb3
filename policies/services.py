"""Every state change of a policy version, its acceptances and its change notice.

Each function writes an event to the audit trail (``audit.services.record_event``) and defers side effects (the notice task,
cache resets) until the transaction commits.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit_services
from audit.models import AuditEvent
from audit.services import Actor
from core.mail import SERVICE, send_templated_mail
from core.permissions import require_perm
from policies.models import (
    ChangeNotice,
    DocumentKind,
    NoticeDelivery,
    PolicyAcceptance,
    PolicyDocument,
    PolicyEvent,
    PolicyVersion,
    VersionStatus,
)
from policies.selectors import MATERIAL_CACHE_KEY, list_notice_recipients, list_notice_waiting

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AbstractUser

logger = logging.getLogger(__name__)

# The allowed moves; anything else is refused by _transition.
TRANSITIONS = {
    VersionStatus.DRAFT: {VersionStatus.SCHEDULED, VersionStatus.IN_FORCE},
    VersionStatus.SCHEDULED: {VersionStatus.IN_FORCE, VersionStatus.DRAFT},
    VersionStatus.IN_FORCE: {VersionStatus.SUPERSEDED},
    VersionStatus.SUPERSEDED: set(),
}


def record_event(
    version: PolicyVersion,
    *,
    actor: AbstractBaseUser | None = None,
    kind: str,
    old_status: str = "",
    new_status: str = "",
    note: str = "",
    old: dict | None = None,
    new: dict | None = None,
) -> AuditEvent:
    """Append one event about a version to the portal's audit trail (``old``/``new`` beat the statuses)."""
    return audit_services.record_event(
        actor=actor if getattr(actor, "is_authenticated", False) else Actor.system("policy schedule"),
        obj=version,
        verb=kind,
        old=old if old is not None else (old_status or None),
        new=new if new is not None else (new_status or None),
        note=note,
    )


def _reset_cache() -> None:
    # Now for this process, and again after commit in case another process cached the old state meanwhile.
    cache.delete(MATERIAL_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(MATERIAL_CACHE_KEY))


def _transition(version: PolicyVersion, *, to: str, actor: AbstractBaseUser | None, kind: str, note: str = "") -> None:
    old = version.status
    if to not in TRANSITIONS[VersionStatus(old)]:
        raise ValidationError(
            _("A %(old)s version cannot become %(new)s.")
            % {"old": VersionStatus(old).label.lower(), "new": VersionStatus(to).label.lower()},
            code="invalid_transition",
        )
    version.status = to
    record_event(version, actor=actor, kind=kind, old_status=old, new_status=to, note=note)


@transaction.atomic
def ensure_document(*, kind: str, title: str | None = None) -> PolicyDocument:
    """The document of this kind, created on first use."""
    document, _created = PolicyDocument.objects.get_or_create(
        kind=kind, defaults={"title": title or DocumentKind(kind).label}
    )
    return document


@transaction.atomic
def save_document(*, document: PolicyDocument, actor: AbstractBaseUser | None = None) -> PolicyDocument:
    """Save a policy document's own details (its title) as staff edited them, with the old and new values."""
    fields = ["kind", "title"]
    stored = PolicyDocument.objects.filter(pk=document.pk).first() if document.pk is not None else None
    before = audit_services.snapshot(stored, fields) if stored is not None else None
    document.save()
    after = audit_services.snapshot(document, fields)
    if before is None:
        audit_services.record_event(actor=actor, obj=document, verb=PolicyEvent.Kind.CREATED, new=after)
    else:
        old, new = audit_services.changes(before, after)
        if new:
            audit_services.record_event(actor=actor, obj=document, verb=PolicyEvent.Kind.EDITED, old=old, new=new)
    return document


@transaction.atomic
def create_version(
    *,
    document: PolicyDocument,
    body: str,
    summary: str = "",
    is_material: bool = False,
    actor: AbstractBaseUser | None = None,
) -> PolicyVersion:
    """Start a new draft with the next version number."""
    # Lock the document row so two drafts started at once get different numbers.
    PolicyDocument.objects.select_for_update().filter(pk=document.pk).first()
    last = document.versions.aggregate(n=Max("number"))["n"] or 0
    version = PolicyVersion.objects.create(
        document=document,
        number=last + 1,
        body=body,
        summary=summary,
        is_material=is_material,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record_event(version, actor=actor, kind=PolicyEvent.Kind.CREATED, new_status=version.status)
    return version


@transaction.atomic
def update_draft(
    *, version: PolicyVersion, actor: AbstractBaseUser | None = None, **fields: str | bool | datetime | None
) -> PolicyVersion:
    """Edit a draft; published text is frozen so that what people accepted stays on record."""
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(_("Only a draft can be edited; start a new version instead."), code="not_draft")
    allowed = {"body", "summary", "is_material", "effective_at"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"cannot edit {sorted(unknown)}")
    changed = [name for name, value in fields.items() if getattr(version, name) != value]
    before = audit_services.snapshot(version, changed)
    for name in changed:
        setattr(version, name, fields[name])
    if changed:
        version.save(update_fields=[*changed, "updated_at"])
        record_event(
            version,
            actor=actor,
            kind=PolicyEvent.Kind.EDITED,
            note=", ".join(changed),
            old=before,
            new=audit_services.snapshot(version, changed),
        )
    return version


def _check_may_publish(actor: AbstractBaseUser | None) -> None:
    require_perm(actor, "policies.change_policyversion", _("You may not publish or unschedule policy versions."))


@transaction.atomic
def publish_version(
    *,
    version: PolicyVersion,
    actor: AbstractBaseUser | None = None,
    effective_at: datetime | None = None,
    now: datetime | None = None,
) -> PolicyVersion:
    """Publish a draft: in force at once, or scheduled for its effective date.

    A material change must take effect in the future, so that account holders are told first:
    publishing it queues the change-notice e-mails, and once in force everyone who joined
    before must accept it at their next login.
    """
    _check_may_publish(actor)
    now = now or timezone.now()
    version = PolicyVersion.objects.select_for_update().select_related("document").get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(_("Only a draft can be published."), code="not_draft")
    if not version.body.strip():
        raise ValidationError(_("A version needs its text before it can be published."), code="empty")
    effective_at = effective_at or version.effective_at
    if version.is_material and (effective_at is None or effective_at <= now):
        raise ValidationError(
            _("A material change must take effect in the future, so that account holders are told before it applies."),
            code="material_needs_notice",
        )
    if (
        PolicyVersion.objects.filter(document=version.document, number__gt=version.number)
        .exclude(status=VersionStatus.DRAFT)
        .exists()
    ):
        raise ValidationError(_("A later version is already published; start a new draft."), code="later_published")
    version.published_at = now
    version.published_by = actor if getattr(actor, "is_authenticated", False) else None
    if effective_at is not None and effective_at > now:
        version.effective_at = effective_at
        _transition(version, to=VersionStatus.SCHEDULED, actor=actor, kind=PolicyEvent.Kind.SCHEDULED)
        version.save(update_fields=["status", "effective_at", "published_at", "published_by", "updated_at"])
    else:
        version.effective_at = now
        version.save(update_fields=["effective_at", "published_at", "published_by", "updated_at"])
        _bring_into_force(version, actor=actor, now=now)
    if version.is_material:
        _queue_notice(version, actor=actor)
    _reset_cache()
    return version


def _bring_into_force(version: PolicyVersion, *, actor: AbstractBaseUser | None, now: datetime) -> None:
    for previous in PolicyVersion.objects.select_for_update().filter(
        document=version.document, status=VersionStatus.IN_FORCE
    ):
        if previous.number > version.number:
            raise ValidationError(_("A newer version is already in force."), code="newer_in_force")
        _transition(
            previous,
            to=VersionStatus.SUPERSEDED,
            actor=actor,
            kind=PolicyEvent.Kind.SUPERSEDED,
            note=f"by v{version.number}",
        )
        previous.superseded_at = now
        previous.save(update_fields=["status", "superseded_at", "updated_at"])
    # Older versions still scheduled would otherwise come into force after this one.
    for stale in PolicyVersion.objects.select_for_update().filter(
        document=version.document, status=VersionStatus.SCHEDULED, number__lt=version.number
    ):
        _transition(
            stale,
            to=VersionStatus.SUPERSEDED,
            actor=actor,
            kind=PolicyEvent.Kind.SUPERSEDED,
            note=f"by v{version.number}",
        )
        stale.superseded_at = now
        stale.save(update_fields=["status", "superseded_at", "updated_at"])
    _transition(version, to=VersionStatus.IN_FORCE, actor=actor, kind=PolicyEvent.Kind.IN_FORCE)
    version.save(update_fields=["status", "updated_at"])


@transaction.atomic
def delete_draft(*, version: PolicyVersion, actor: AbstractBaseUser | None = None) -> None:
    """Delete a draft nobody was ever shown; the trail keeps that it existed and what it said."""
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(_("Only a draft can be deleted."), code="not_draft")
    record_event(
        version,
        actor=actor,
        kind=PolicyEvent.Kind.DELETED,
        old=audit_services.snapshot(version, ["body", "summary", "is_material", "effective_at"]),
    )
    version.delete()


@transaction.atomic
def unschedule_version(*, version: PolicyVersion, actor: AbstractBaseUser | None = None) -> PolicyVersion:
    """Take a scheduled version back to draft (before it takes effect); a sent notice stays on record."""
    _check_may_publish(actor)
    version = PolicyVersion.objects.select_for_update().get(pk=version.pk)
    if version.status == VersionStatus.SCHEDULED and hasattr(version, "notice"):
        raise ValidationError(
            _("Account holders were already told about this change; publish a new version instead."),
            code="notice_sent",
        )
    _transition(version, to=VersionStatus.DRAFT, actor=actor, kind=PolicyEvent.Kind.UNSCHEDULED)
    version.published_at = None
    version.published_by = None
    version.save(update_fields=["status", "published_at", "published_by", "updated_at"])
    _reset_cache()
    return version


def activate_due_versions(*, now: datetime | None = None) -> list[PolicyVersion]:
    """Bring every scheduled version whose date has come into force, superseding the one before it."""
    now = now or timezone.now()
    activated = []
    due_ids = list(
        PolicyVersion.objects.filter(status=VersionStatus.SCHEDULED, effective_at__lte=now)
        .order_by("effective_at", "number")
        .values_list("pk", flat=True)
    )
    for pk in due_ids:
        with transaction.atomic():
            version = PolicyVersion.objects.select_for_update().select_related("document").get(pk=pk)
            if version.status != VersionStatus.SCHEDULED:
                continue  # another worker got there first, or an older one was superseded meanwhile
            _bring_into_force(version, actor=None, now=now)
            _reset_cache()
        activated.append(version)
    return activated


@transaction.atomic
def accept_version(
    *, user: AbstractBaseUser, version: PolicyVersion, ip: str | None = None, now: datetime | None = None
) -> PolicyAcceptance:
    """Record that an account holder accepted a version in force (once; accepting again is a no-op)."""
    version = PolicyVersion.objects.get(pk=version.pk)  # the stored status, not a stale copy
    if version.status != VersionStatus.IN_FORCE:
        raise ValidationError(_("Only the version in force can be accepted."), code="not_in_force")
    acceptance, created = PolicyAcceptance.objects.get_or_create(
        user=user, version=version, defaults={"accepted_at": now or timezone.now(), "ip": _truncate_ip(ip)}
    )
    if created:
        record_event(version, actor=user, kind=PolicyEvent.Kind.ACCEPTED, note=f"user {user.pk}")
    return acceptance


def record_signup_acceptances(*, user: AbstractBaseUser, ip: str | None = None) -> list[PolicyAcceptance]:
    """Record that a newcomer accepted every version in force when they signed up (the sign-up page names them)."""
    versions = PolicyVersion.objects.filter(status=VersionStatus.IN_FORCE).order_by("document__kind")
    return [accept_version(user=user, version=version, ip=ip) for version in versions]


def _truncate_ip(ip: str | None) -> str | None:
    """Keep only the network part: enough as evidence, less personal data."""
    if not ip:
        return None
    if ":" in ip:
        parts = ip.split(":")
        return ":".join(parts[:3]) + "::"
    parts = ip.split(".")
    return ".".join(parts[:3] + ["0"]) if len(parts) == 4 else None


# --- change notices ----------------------------------------------------------------


def _queue_notice(version: PolicyVersion, *, actor: AbstractBaseUser | None) -> ChangeNotice:
    notice, created = ChangeNotice.objects.get_or_create(
        version=version, defaults={"batch_size": max(1, settings.POLICY_NOTICE_BATCH_SIZE)}
    )
    if created:
        record_event(version, actor=actor, kind=PolicyEvent.Kind.NOTICE_QUEUED, note=f"batches of {notice.batch_size}")
        from policies.tasks import send_change_notice_batch_task

        transaction.on_commit(lambda: send_change_notice_batch_task.delay(notice.pk))
    return notice


@transaction.atomic
def send_change_notice_now(*, version: PolicyVersion, actor: AbstractBaseUser | None = None) -> ChangeNotice:
    """Mail a published material change to everyone who must be told and has not been yet, in batches.

    From the version's page: a notice that never started, stalled, or finished before more people had to be told
    is taken up again. Each recipient is claimed once (``send_change_notice_batch``), so nobody is mailed twice.
    """
    require_perm(actor, "policies.change_policyversion", _("You may not send change notices."))
    version = PolicyVersion.objects.select_for_update().select_related("document").get(pk=version.pk)
    if not version.is_material:
        raise ValidationError(_("Only a material change is announced by e-mail."), code="not_material")
    if version.status not in (VersionStatus.SCHEDULED, VersionStatus.IN_FORCE):
        raise ValidationError(
            _("Only a published version that is scheduled or in force is announced."), code="not_published"
        )
    waiting = list_notice_waiting(version=version).count()
    if waiting == 0:
        raise ValidationError(_("Everyone who must be told of this change has been told."), code="nobody_waiting")
    notice, created = ChangeNotice.objects.select_for_update().get_or_create(
        version=version, defaults={"batch_size": max(1, settings.POLICY_NOTICE_BATCH_SIZE)}
    )
    old = {"status": notice.status, "recipients": notice.total}
    if notice.status == ChangeNotice.Status.DONE:
        # More people to tell than when it finished: the same notice goes on, so its report stays one.
        notice.status = ChangeNotice.Status.SENDING
        notice.finished_at = None
    if notice.status == ChangeNotice.Status.SENDING:
        notice.total = NoticeDelivery.objects.filter(notice=notice).count() + waiting
    notice.save()
    record_event(
        version,
        actor=actor,
        kind=PolicyEvent.Kind.NOTICE_QUEUED,
        old=None if created else old,
        new={"status": notice.status, "recipients": notice.total, "to_tell": waiting},
        note=f"sent from the version's page to {waiting} account holders",
    )
    from policies.tasks import send_change_notice_batch_task

    transaction.on_commit(lambda: send_change_notice_batch_task.delay(notice.pk))
    return notice


def send_change_notice_batch(*, notice: ChangeNotice, now: datetime | None = None) -> bool:
    """Send the next batch of a change notice; return True while recipients remain.

    Each recipient is claimed by inserting a delivery row first (unique per notice and user), so a
    retried or duplicated task never mails anyone twice. If the mail server is unreachable the claim
    is released and the error raised, so the task retries later.
    """
    now = now or timezone.now()
    with transaction.atomic():
        notice = ChangeNotice.objects.select_for_update().select_related("version__document").get(pk=notice.pk)
        if notice.status == ChangeNotice.Status.DONE:
            return False
        recipients = list_notice_recipients(version=notice.version)
        if notice.status == ChangeNotice.Status.QUEUED:
            notice.status = ChangeNotice.Status.SENDING
            notice.started_at = now
            notice.total = recipients.count()
            notice.save(update_fields=["status", "started_at", "total"])
    version = notice.version
    batch = list(
        recipients.exclude(pk__in=NoticeDelivery.objects.filter(notice=notice).values("user_id"))[: notice.batch_size]
    )
    sent = failed = 0
    for user in batch:
        try:
            with transaction.atomic():
                delivery = NoticeDelivery.objects.create(notice=notice, user=user)
        except IntegrityError:
            continue  # claimed by another run
        try:
            _send_notice_mail(version=version, user=user)
        except smtplib.SMTPRecipientsRefused as exc:
            delivery.status, delivery.error = NoticeDelivery.Status.FAILED, str(exc)[:300]
            delivery.save(update_fields=["status", "error"])
            failed += 1
            continue
        except OSError:
            delivery.delete()  # nobody got it: release the claim so the retry sends it
            _count(notice, sent=sent, failed=failed)
            raise
        delivery.status, delivery.sent_at = NoticeDelivery.Status.SENT, timezone.now()
        delivery.save(update_fields=["status", "sent_at"])
        sent += 1
    _count(notice, sent=sent, failed=failed, batch=True)
    remaining = recipients.exclude(pk__in=NoticeDelivery.objects.filter(notice=notice).values("user_id")).exists()
    if not remaining:
        with transaction.atomic():
            notice = ChangeNotice.objects.select_for_update().get(pk=notice.pk)
            if notice.status != ChangeNotice.Status.DONE:
                notice.status = ChangeNotice.Status.DONE
                notice.finished_at = timezone.now()
                notice.total = NoticeDelivery.objects.filter(notice=notice).count()
                notice.save(update_fields=["status", "finished_at", "total"])
                record_event(
                    version, kind=PolicyEvent.Kind.NOTICE_DONE, note=f"{notice.sent} sent, {notice.failed} failed"
                )
    return remaining


def _count(notice: ChangeNotice, *, sent: int, failed: int, batch: bool = False) -> None:
    ChangeNotice.objects.filter(pk=notice.pk).update(
        sent=F("sent") + sent, failed=F("failed") + failed, batches=F("batches") + (1 if batch else 0)
    )
    notice.refresh_from_db(fields=["sent", "failed", "batches"])


def _send_notice_mail(*, version: PolicyVersion, user: AbstractUser) -> None:
    send_templated_mail(
        to=[user.email],
        template="mail/policies/change_notice",
        context={
            "name": user.get_full_name() or user.email,
            "document_title": version.document.title,
            "number": version.number,
            "summary": version.summary,
            "effective_at": version.effective_at,
            "document_url": settings.SITE_URL + version.document.get_absolute_url(),
            "version_url": settings.SITE_URL + version.get_absolute_url(),
            "history_url": settings.SITE_URL + "/privacy/history/",
        },
        category=SERVICE,
    )
