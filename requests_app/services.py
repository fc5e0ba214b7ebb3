"""Every change to a data-subject request: one function per action, each writing the audit trail.

Side effects (mail, the ``request_verified`` signal) run only after commit. ``ALLOWED_TRANSITIONS``
is the one place that says which status may follow which.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from datetime import datetime as _datetime
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit_services
from audit.models import ActorKind, AuditEvent
from audit.services import Actor
from core import ratelimit
from core.permissions import officer_emails, require_perm
from requests_app import deadlines, selectors
from requests_app.models import (
    OPEN_STATUSES,
    Channel,
    DataRequest,
    DenialReason,
    EventKind,
    FilePurpose,
    InternalNote,
    Jurisdiction,
    RequestFile,
    RequestKind,
    RequestMessage,
    RequestStatus,
    SentReminder,
    VerificationToken,
)
from requests_app.signals import request_verified

if TYPE_CHECKING:
    from datetime import date, datetime

    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AbstractUser
    from django.core.files.uploadedfile import UploadedFile

S = RequestStatus
logger = logging.getLogger(__name__)

# The one table of allowed status changes. Entering VERIFIED, AWAITING_VERIFICATION or EXPIRED needs an
# unverified request; entering IN_PROGRESS or COMPLETED needs a verified one (checked in ``check_transition``).
# Staff may ask an unverified requester for information (e.g. a proof of identity): their reply sends the
# request back to AWAITING_VERIFICATION, and until it is verified it expires like any unverified request.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.AWAITING_VERIFICATION: frozenset({S.VERIFIED, S.AWAITING_REQUESTER, S.DENIED, S.WITHDRAWN, S.EXPIRED}),
    S.VERIFIED: frozenset({S.IN_PROGRESS, S.AWAITING_REQUESTER, S.DENIED, S.WITHDRAWN}),
    S.IN_PROGRESS: frozenset({S.AWAITING_REQUESTER, S.COMPLETED, S.DENIED, S.WITHDRAWN}),
    S.AWAITING_REQUESTER: frozenset(
        {S.AWAITING_VERIFICATION, S.VERIFIED, S.IN_PROGRESS, S.COMPLETED, S.DENIED, S.WITHDRAWN, S.EXPIRED}
    ),
    S.COMPLETED: frozenset(),
    S.DENIED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.EXPIRED: frozenset(),
}
STATUS_SALT = "requests_app.status-link"
VERIFICATION_REMINDER_DAYS_BEFORE = 3
# Open statuses a request can be in before its identity is verified; the expiry job watches both.
UNVERIFIED_WAITING = (S.AWAITING_VERIFICATION, S.AWAITING_REQUESTER)
# Kinds whose fulfilment releases data or changes processing: confirmed by the e-mail link alone, they wait
# for a staff member's approval (DSR_EMAIL_ONLY_NEEDS_APPROVAL). A mail scanner or an attacker who can read
# the link must not trigger them on their own.
APPROVAL_KINDS = frozenset(
    {RequestKind.ACCESS, RequestKind.PORTABILITY, RequestKind.RESTRICTION, RequestKind.OBJECTION}
)


def org_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def holidays() -> frozenset:
    return deadlines.parse_holidays(settings.DSR_HOLIDAYS)


def today(now: datetime | None = None) -> date:
    return deadlines.local_date(now or timezone.now(), org_tz())


# --- audit trail ------------------------------------------------------------------


def _actor(data_request: DataRequest, actor: Actor | AbstractBaseUser | str | None) -> Actor:
    # "requester" is someone holding the request's secret link: the trail names them by masked address.
    if actor == "requester":
        return Actor.requester(data_request.requester_email)
    return Actor.of(actor)


def record_event(
    data_request: DataRequest,
    *,
    actor: Actor | AbstractBaseUser | str | None,
    kind: str,
    old: object = None,
    new: object = None,
    note: str = "",
) -> AuditEvent:
    """Append one event to the portal's audit trail under the request's reference.

    ``actor`` is a user, ``"requester"`` (the secret link's holder), a job's name, or None for the portal.
    """
    return audit_services.record_event(
        actor=_actor(data_request, actor),
        obj=data_request,
        verb=kind,
        old=None if old is None else str(old),
        new=None if new is None else str(new),
        note=note,
        request_reference=data_request.reference,
    )


def scrub_request_trail(*, data_requests: QuerySet[DataRequest], user_ids: Iterable[int] = ()) -> int:
    """Take a subject's data out of their requests' audit trail (erasure); what happened, and when, stays.

    Rectification diffs hold their old and new values and attachment events their file names: these become
    the mask. Their own actions carry their username or masked address: the actor becomes a role label.
    """
    from registry.strategies import MASK_TEXT

    user_ids = [pk for pk in user_ids if pk is not None]
    references = list(data_requests.values_list("reference", flat=True))
    events = AuditEvent.objects.filter(request_reference__in=references)
    rectifications = list(data_requests.filter(kind=RequestKind.RECTIFICATION).values_list("reference", flat=True))
    diffs = events.filter(verb=EventKind.FULFILMENT, request_reference__in=rectifications)
    changed = audit_services.mask_events(events=diffs.filter(old__isnull=False), old=MASK_TEXT)
    changed += audit_services.mask_events(events=diffs.filter(new__isnull=False), new=MASK_TEXT)
    files = events.filter(verb=EventKind.FILE, note=FilePurpose.ATTACHMENT, new__isnull=False)
    changed += audit_services.mask_events(events=files, new=MASK_TEXT)
    by_subject = Q(actor_kind=ActorKind.REQUESTER) | Q(actor_id__in=user_ids)
    changed += audit_services.mask_events(events=events.filter(by_subject), actor_label="requester")
    return changed


def _queue_mail(data_request: DataRequest, mail: str, **extra: str) -> None:
    from requests_app.tasks import send_request_mail_task

    pk = data_request.pk
    transaction.on_commit(lambda: send_request_mail_task.delay(pk, mail, extra))


# --- transitions ------------------------------------------------------------------


def check_transition(data_request: DataRequest, to_status: str) -> None:
    """Raise ValidationError unless ``data_request`` may move to ``to_status`` now."""
    current = data_request.status
    if to_status not in RequestStatus.values:
        raise ValidationError(_("Unknown status “%(status)s”.") % {"status": to_status}, code="unknown_status")
    if to_status not in ALLOWED_TRANSITIONS[current]:
        raise ValidationError(
            _("A request that is “%(old)s” cannot become “%(new)s”.")
            % {"old": RequestStatus(current).label, "new": RequestStatus(to_status).label},
            code="invalid_transition",
        )
    if to_status in (S.VERIFIED, S.AWAITING_VERIFICATION, S.EXPIRED) and data_request.verified_at is not None:
        raise ValidationError(_("This request is already verified."), code="already_verified")
    if to_status in (S.IN_PROGRESS, S.COMPLETED) and data_request.verified_at is None:
        raise ValidationError(
            _("The requester's identity must be verified before the request is worked on."), code="not_verified"
        )
    if to_status in (S.IN_PROGRESS, S.COMPLETED) and data_request.awaits_release_approval:
        raise ValidationError(
            _("The request was confirmed only by e-mail: approve it before it is worked on."),
            code="awaiting_approval",
        )
    if to_status == S.DENIED and not (data_request.denial_reason and data_request.denial_text.strip()):
        raise ValidationError(
            _("A denial needs a reason and a text for the requester; use “deny”."), code="denial_reason"
        )


def needs_release_approval(*, kind: str, email_only: bool) -> bool:
    """Whether a request of ``kind``, verified this way, waits for a staff member before it is carried out."""
    return email_only and kind in APPROVAL_KINDS and settings.DSR_EMAIL_ONLY_NEEDS_APPROVAL


@transaction.atomic
def transition_request(
    *,
    data_request: DataRequest,
    to_status: str,
    actor: AbstractBaseUser | str | None,
    note: str = "",
    email_only: bool = False,
) -> DataRequest:
    """Move the request to ``to_status`` if allowed, record it, and queue the requester's mail after commit.

    Verifying a request whose address already has a verified open request of the same type folds it
    into that one (see ``_fold_into``): the request returned is then withdrawn, with ``merged_into`` set.
    ``email_only`` says the verification rests on the e-mail link alone: see ``needs_release_approval``.
    """
    data_request = DataRequest.objects.select_for_update().get(pk=data_request.pk)
    check_transition(data_request, to_status)
    old = data_request.status
    now = timezone.now()
    data_request.status = to_status
    fields = ["status", "updated_at"]
    if to_status == S.VERIFIED:
        data_request.verified_at = now
        fields.append("verified_at")
        if needs_release_approval(kind=data_request.kind, email_only=email_only):
            data_request.release_approval_required = True
            fields.append("release_approval_required")
    if to_status == S.AWAITING_REQUESTER and data_request.verified_at is None:
        # Staff asked a still-unverified requester for something: the verification window starts again,
        # so that they have all of it to answer.
        data_request.verification_requested_at = now
        fields.append("verification_requested_at")
    if to_status not in OPEN_STATUSES:
        data_request.closed_at = now
        fields.append("closed_at")
    data_request.save(update_fields=fields)
    record_event(data_request, actor=actor, kind=EventKind.STATUS, old=old, new=to_status, note=note)
    if to_status == S.VERIFIED:
        target = selectors.find_verified_duplicate(
            email=data_request.requester_email, kind=data_request.kind, exclude_pk=data_request.pk
        )
        if target is not None:
            return _fold_into(source=data_request, target=target, actor=actor)
        if data_request.release_approval_required:
            record_event(
                data_request,
                actor="system",
                kind=EventKind.APPROVAL,
                new="required",
                note=_("Confirmed by e-mail only: a staff member approves the request before it is carried out."),
            )
        else:
            verified = data_request
            transaction.on_commit(lambda: _send_verified_signal(verified))
    elif to_status == S.AWAITING_REQUESTER:
        _queue_mail(data_request, "information_requested", note=note)
    elif to_status == S.COMPLETED:
        _queue_mail(data_request, "completed")
    elif to_status == S.DENIED:
        _queue_mail(data_request, "denied")
    return data_request


def _send_verified_signal(data_request: DataRequest) -> None:
    # The request is verified and committed whatever a receiver does; a failing receiver is logged, not raised.
    for receiver, result in request_verified.send_robust(sender=DataRequest, data_request=data_request):
        if isinstance(result, Exception):
            logger.error(
                "request_verified receiver %r failed for %s", receiver, data_request.reference, exc_info=result
            )


# --- intake -------------------------------------------------------------------------


def _compute_dates(*, jurisdiction: str, kind: str, received_at: datetime) -> dict:
    received = deadlines.local_date(received_at, org_tz())
    due = deadlines.due_date(
        jurisdiction=jurisdiction,
        kind=kind,
        received=received,
        default_days=settings.DSR_DEFAULT_DEADLINE_DAYS,
        holidays=holidays(),
    )
    return {
        "due_at": deadlines.end_of_day(due, org_tz()),
        "acknowledge_by": deadlines.acknowledge_by(jurisdiction=jurisdiction, received=received, holidays=holidays()),
    }


def _new_reference(data_request: DataRequest) -> str:
    return f"DSR-{timezone.localtime(data_request.received_at).year}-{data_request.pk:06d}"


def _add_repeat_submission(
    target: DataRequest,
    *,
    details: str,
    attachment: UploadedFile | None,
    user: AbstractBaseUser | None,
    actor: AbstractBaseUser | str | None,
    source: str = "",
) -> None:
    # Only ever called once the sender is known to control the address (see ``submit_request``).
    if details.strip():
        RequestMessage.objects.create(data_request=target, author=user, from_staff=False, body=details)
    if attachment is not None:
        _store_file(target, FilePurpose.ATTACHMENT, attachment, attachment.name, user)
    if user is not None and target.user_id is None:
        # The verified owner of the address: they may now follow the request from their account.
        target.user = user
        target.save(update_fields=["user", "updated_at"])
    record_event(
        target, actor=actor, kind=EventKind.LINKED, new=source, note=_("The same request was submitted again.")
    )


def _fold_into(*, source: DataRequest, target: DataRequest, actor: AbstractBaseUser | str | None) -> DataRequest:
    """Fold the just-verified ``source`` into ``target`` (same address and type, verified, open); withdraw ``source``.

    Its details, attachments and messages move to ``target``, which keeps its own deadline. ``source``
    stays in the log, withdrawn and pointing to ``target``, and metrics do not count it.
    """
    target = DataRequest.objects.select_for_update().get(pk=target.pk)
    source.messages.update(data_request=target)
    if source.details.strip():
        RequestMessage.objects.create(
            data_request=target,
            author=source.user,
            from_staff=False,
            body=source.details,
            created_at=source.created_at,
        )
    for row in source.files.filter(purpose=FilePurpose.ATTACHMENT):
        row.data_request = target
        row.save(update_fields=["data_request"])
        record_event(target, actor=actor, kind=EventKind.FILE, new=row.name, note=row.purpose)
    _add_repeat_submission(target, details="", attachment=None, user=source.user, actor=actor, source=source.reference)
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    return transition_request(
        data_request=source,
        to_status=S.WITHDRAWN,
        actor=actor,
        note=_("Added to %(reference)s, the open request of the same type from the same address.")
        % {"reference": target.reference},
    )


@transaction.atomic
def submit_request(
    *,
    name: str,
    email: str,
    kind: str,
    jurisdiction: str,
    relationship: str = "customer",
    details: str = "",
    user: AbstractBaseUser | None = None,
    attachment: UploadedFile | None = None,
    language: str = "en",
    channel: str = Channel.WEB_FORM,
    identity_verified: bool = False,
    received_at: datetime | None = None,
    actor: AbstractBaseUser | str | None = None,
) -> tuple[DataRequest, bool]:
    """Record a new request, or add it to the same person's open one of the same type; returns (request, created).

    Queues the acknowledgement and, unless ``identity_verified``, the verification link. Staff entering a
    request received by phone or post pass themselves as ``actor`` and, if earlier, the ``received_at``
    from which the deadlines run.

    Only a sender whose identity is verified is added to an existing request (the same address's
    verified open request of this type). Anyone else may not control the address: they get a request
    of their own, with its own reference, and nothing of theirs reaches the existing one. It is folded
    in when, and only if, its own verification succeeds (``transition_request``).
    """
    email = email.strip()
    actor = actor or user or "requester"
    if identity_verified:
        existing = selectors.find_verified_duplicate(email=email, kind=kind)
        if existing is not None:
            _add_repeat_submission(existing, details=details, attachment=attachment, user=user, actor=actor)
            return existing, False

    now = timezone.now()
    if received_at is None or received_at > now:
        received_at = now
    data_request = DataRequest.objects.create(
        reference=f"tmp-{secrets.token_hex(8)}",
        kind=kind,
        jurisdiction=jurisdiction,
        relationship=relationship,
        requester_name=name.strip(),
        requester_email=email,
        user=user,
        details=details,
        channel=channel,
        language=language or settings.LANGUAGE_CODE,
        received_at=received_at,
        acknowledged_at=now,
        verification_requested_at=now,
        status_nonce=secrets.token_hex(8),
        **_compute_dates(jurisdiction=jurisdiction, kind=kind, received_at=received_at),
    )
    data_request.reference = _new_reference(data_request)
    data_request.original_due_at = data_request.due_at
    data_request.save(update_fields=["reference", "original_due_at"])
    record_event(
        data_request,
        actor=actor,
        kind=EventKind.CREATED,
        new=S.AWAITING_VERIFICATION,
        note=Channel(channel).label if channel in Channel.values else channel,
    )
    if attachment is not None:
        _store_file(data_request, FilePurpose.ATTACHMENT, attachment, attachment.name, user)
    _queue_mail(data_request, "acknowledgement")
    if identity_verified:
        data_request = transition_request(
            data_request=data_request,
            to_status=S.VERIFIED,
            actor=actor,
            note=_("Signed in with a verified e-mail address and authenticated recently.")
            if actor == user
            else _("Identity checked by staff at intake."),
        )
        if data_request.merged_into is not None:  # a verified duplicate appeared meanwhile
            return data_request.merged_into, False
    else:
        _queue_mail(data_request, "verification")
    return data_request, True


def _user_display_name(user: AbstractUser) -> str:
    full = f"{user.first_name} {user.last_name}".strip()
    return full or user.get_username()


@transaction.atomic
def create_verified_request(
    *, user: AbstractUser, kind: str, details: str = "", actor: AbstractBaseUser | str | None = None
) -> DataRequest:
    """Open an already-verified request for a signed-in account holder (self-service, e.g. account deletion)."""
    data_request, _created = submit_request(
        name=_user_display_name(user),
        email=user.email,
        kind=kind,
        jurisdiction=Jurisdiction.OTHER,
        details=details,
        user=user,
        channel=Channel.ACCOUNT,
        identity_verified=True,
    )
    if actor is not None and actor != user:
        record_event(data_request, actor=actor, kind=EventKind.NOTE, note=_("Opened on behalf of the account holder."))
    return data_request.__class__.objects.get(pk=data_request.pk)


# --- verification -----------------------------------------------------------------


_hash = selectors.hash_verifier


def issue_verification_token(*, data_request: DataRequest) -> str:
    """Create a single-use verification token and return it in clear (only its hash is stored)."""
    selector = secrets.token_urlsafe(12)[:16]
    verifier = secrets.token_urlsafe(24)
    VerificationToken.objects.create(
        data_request=data_request,
        selector=selector,
        verifier_hash=_hash(verifier),
        expires_at=timezone.now() + settings.DSR_VERIFICATION_TTL,
    )
    return f"{selector}.{verifier}"


class VerificationError(ValidationError):
    pass


def verify_with_token(*, token: str) -> tuple[DataRequest, bool]:
    """Check an e-mailed token and verify its request; returns (request, newly_verified) or raises VerificationError."""
    selector, _sep, verifier = token.partition(".")
    invalid = VerificationError(_("This verification link is not valid."), code="invalid")
    with transaction.atomic():
        row = (
            VerificationToken.objects.select_for_update()
            .select_related("data_request")
            .filter(selector=selector)
            .first()
        )
        if row is None:
            raise invalid
        data_request = row.data_request
        ok = selectors.verifier_matches(verifier=verifier, verifier_hash=row.verifier_hash)
        if ok and row.used_at is not None and data_request.verified_at is not None:
            # The right link opened again (often a mail scanner went first): no error, and no attempt used.
            return data_request, False
        if row.attempts >= settings.DSR_VERIFICATION_MAX_ATTEMPTS:
            raise VerificationError(_("This link was tried too many times; ask for a new one."), code="locked")
        if not ok:
            row.attempts += 1
            row.save(update_fields=["attempts"])
            record_event(data_request, actor="requester", kind=EventKind.VERIFICATION_FAILED)
    if not ok:
        raise invalid
    with transaction.atomic():
        row = VerificationToken.objects.select_for_update().get(pk=row.pk)
        if row.used_at is not None:
            if data_request.verified_at is not None:
                return data_request, False
            raise VerificationError(_("This verification link has already been used."), code="used")
        if row.expires_at <= timezone.now():
            raise VerificationError(_("This verification link has expired."), code="expired")
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
        data_request.refresh_from_db()
        if data_request.verified_at is not None:
            return data_request, False
        if S.VERIFIED not in ALLOWED_TRANSITIONS[data_request.status]:
            raise VerificationError(_("This request is closed and can no longer be verified."), code="closed")
        data_request = transition_request(
            data_request=data_request,
            to_status=S.VERIFIED,
            actor="requester",
            note=_("Confirmed through the e-mailed link."),
            email_only=True,
        )
        return data_request, True


# At most this many fresh links per request and hour: the resend form must not become a way to flood an inbox.
RESEND_RATE = "3/h"


def resend_verification(*, data_request: DataRequest) -> None:
    """Send a fresh verification link if the request still awaits verification, a few times an hour at most."""
    if data_request.verified_at is not None or data_request.status not in UNVERIFIED_WAITING:
        return
    if ratelimit.hit(scope="dsr-resend", key=str(data_request.pk), rate=RESEND_RATE):
        _queue_mail(data_request, "verification")


def verify_request(*, data_request: DataRequest, actor: AbstractBaseUser | str | None, note: str = "") -> DataRequest:
    """Staff confirm the requester's identity by other means."""
    return transition_request(
        data_request=data_request, to_status=S.VERIFIED, actor=actor, note=note or _("Verified manually by staff.")
    )


@transaction.atomic
def approve_release(*, data_request: DataRequest, actor: AbstractBaseUser | str | None) -> DataRequest:
    """A staff member approves a request confirmed only by e-mail; its fulfilment starts after commit."""
    if actor is None:
        raise PermissionDenied(_("A staff member approves this request, not a scheduled job."))
    require_perm(actor, "requests_app.approve_release", _("You may not approve requests confirmed only by e-mail."))
    data_request = DataRequest.objects.select_for_update().get(pk=data_request.pk)
    if not data_request.awaits_release_approval:
        raise ValidationError(_("This request is not waiting for an approval."), code="not_awaiting_approval")
    data_request.release_approved_at = timezone.now()
    data_request.release_approved_by = _user_or_none(actor)
    data_request.save(update_fields=["release_approved_at", "release_approved_by", "updated_at"])
    record_event(
        data_request,
        actor=actor,
        kind=EventKind.APPROVAL,
        old="required",
        new="approved",
        note=_("Approved by staff: the request is carried out now."),
    )
    approved = data_request
    transaction.on_commit(lambda: _send_verified_signal(approved))
    return data_request


# --- staff workflow ---------------------------------------------------------------


@transaction.atomic
def start_request(*, data_request: DataRequest, actor: AbstractBaseUser | str | None) -> DataRequest:
    """Mark a verified request as being worked on by ``actor``, who is then its assignee."""
    data_request = transition_request(data_request=data_request, to_status=S.IN_PROGRESS, actor=actor)
    person = _user_or_none(actor)
    if person is not None and person.is_staff:
        data_request = assign_request(data_request=data_request, assignee=person, actor=actor)
    return data_request


@transaction.atomic
def request_information(
    *, data_request: DataRequest, actor: AbstractBaseUser | str | None, message: str
) -> DataRequest:
    """Ask the requester for more information; the request waits for their reply."""
    if not message.strip():
        raise ValidationError(_("Say what information you need."), code="message_required")
    data_request = transition_request(
        data_request=data_request, to_status=S.AWAITING_REQUESTER, actor=actor, note=message
    )
    RequestMessage.objects.create(data_request=data_request, author=_user_or_none(actor), from_staff=True, body=message)
    return data_request


def _user_or_none(actor: AbstractBaseUser | str | None) -> AbstractBaseUser | None:
    return None if actor is None or isinstance(actor, str) else actor


@transaction.atomic
def assign_request(
    *, data_request: DataRequest, assignee: AbstractBaseUser | None, actor: AbstractBaseUser | str | None
) -> DataRequest:
    """Give the request to a staff member (or None to unassign)."""
    data_request = DataRequest.objects.select_for_update().get(pk=data_request.pk)
    if assignee is not None and not selectors.list_assignable_staff().filter(pk=assignee.pk).exists():
        raise ValidationError(_("Requests can only be assigned to staff."), code="not_staff")
    old = data_request.assignee
    if old == assignee:
        return data_request
    data_request.assignee = assignee
    data_request.assigned_at = timezone.now() if assignee else None
    data_request.save(update_fields=["assignee", "assigned_at", "updated_at"])
    record_event(
        data_request,
        actor=actor,
        kind=EventKind.ASSIGNED,
        old=old.get_username() if old else "",
        new=assignee.get_username() if assignee else "",
    )
    return data_request


@transaction.atomic
def assign_requests(
    *, data_requests: Iterable[DataRequest], assignee: AbstractBaseUser | None, actor: AbstractBaseUser | str | None
) -> int:
    """Give several requests to one staff member at once; returns how many changed hands."""
    require_perm(actor, "requests_app.change_datarequest", _("You may not assign requests."))
    changed = 0
    for data_request in data_requests:
        before = data_request.assignee_id
        after = assign_request(data_request=data_request, assignee=assignee, actor=actor).assignee_id
        changed += before != after
    return changed


def extended_due_date(*, data_request: DataRequest, now: datetime | None = None) -> date | None:
    """The due date the law's one extension would give (shown before it is taken); None if it cannot be taken."""
    if not may_extend(data_request=data_request, now=now):
        return None
    original = deadlines.local_date(data_request.original_due_at or data_request.due_at, org_tz())
    return deadlines.extended_due_date(jurisdiction=data_request.jurisdiction, original_due=original)


def may_extend(*, data_request: DataRequest, now: datetime | None = None) -> bool:
    """Whether the request is open and the law's one extension may still be taken today."""
    original = deadlines.local_date(data_request.original_due_at or data_request.due_at, org_tz())
    return data_request.is_open and deadlines.can_extend(
        jurisdiction=data_request.jurisdiction,
        kind=data_request.kind,
        original_due=original,
        today=today(now),
        already_extended=data_request.extended_at is not None,
    )


# The staff workflow's steps, in the order the request page offers them.
WORKFLOW_ACTIONS = ("verify", "approve", "start", "request_info", "message", "extend", "deny", "complete")


def available_workflow_actions(*, data_request: DataRequest, now: datetime | None = None) -> list[str]:
    """The workflow steps that the request's state allows now (permissions are the caller's to check)."""
    allowed = ALLOWED_TRANSITIONS[data_request.status]
    verified = data_request.verified_at is not None
    waiting = data_request.awaits_release_approval
    available = {
        "verify": S.VERIFIED in allowed and not verified,
        "approve": waiting,
        "start": S.IN_PROGRESS in allowed and verified and not waiting,
        "request_info": S.AWAITING_REQUESTER in allowed,
        "message": data_request.is_open,
        "extend": may_extend(data_request=data_request, now=now),
        "deny": S.DENIED in allowed,
        "complete": verified and not waiting and (S.COMPLETED in allowed or data_request.status == S.VERIFIED),
    }
    return [name for name in WORKFLOW_ACTIONS if available[name]]


@transaction.atomic
def extend_deadline(
    *, data_request: DataRequest, reason: str, actor: AbstractBaseUser | str | None, now: datetime | None = None
) -> DataRequest:
    """Take the one extension the law allows, record why, and tell the requester the reasons."""
    data_request = DataRequest.objects.select_for_update().get(pk=data_request.pk)
    if not reason.strip():
        raise ValidationError(_("An extension needs a reason that the requester will read."), code="reason_required")
    if not data_request.is_open:
        raise ValidationError(_("A closed request cannot be extended."), code="closed")
    if not may_extend(data_request=data_request, now=now):
        if data_request.extended_at is not None:
            raise ValidationError(_("This request has already been extended."), code="already_extended")
        raise ValidationError(
            _("The law gives no extension for this request now (it must be taken within the first period)."),
            code="not_extendable",
        )
    old_due = data_request.due_at
    new_due = extended_due_date(data_request=data_request, now=now)
    data_request.due_at = deadlines.end_of_day(new_due, org_tz())
    data_request.extended_at = timezone.now()
    data_request.extension_reason = reason
    data_request.save(update_fields=["due_at", "extended_at", "extension_reason", "updated_at"])
    record_event(
        data_request,
        actor=actor,
        kind=EventKind.EXTENDED,
        old=deadlines.local_date(old_due, org_tz()).isoformat(),
        new=new_due.isoformat(),
        note=reason,
    )
    _queue_mail(data_request, "extended")
    return data_request


@transaction.atomic
def deny_request(
    *, data_request: DataRequest, actor: AbstractBaseUser | str | None, reason: str, requester_text: str
) -> DataRequest:
    """Refuse the request with a listed reason and an explanation the requester reads (with their right to complain)."""
    if reason not in DenialReason.values:
        raise ValidationError(_("Choose a denial reason from the list."), code="denial_reason")
    if not requester_text.strip():
        raise ValidationError(_("Write the explanation the requester will read."), code="denial_text")
    data_request = DataRequest.objects.select_for_update().get(pk=data_request.pk)
    if S.DENIED not in ALLOWED_TRANSITIONS[data_request.status]:
        check_transition(data_request, S.DENIED)  # raises the clear "cannot become" error
    data_request.denial_reason = reason
    data_request.denial_text = requester_text
    data_request.save(update_fields=["denial_reason", "denial_text", "updated_at"])
    return transition_request(
        data_request=data_request, to_status=S.DENIED, actor=actor, note=f"{reason}: {requester_text}"
    )


def _store_file(
    data_request: DataRequest,
    purpose: str,
    content: str | Path | bytes | File,
    name: str,
    actor: AbstractBaseUser | str | None,
) -> RequestFile:
    name = Path(name or "file").name[:200]
    if isinstance(content, str | Path):
        with open(content, "rb") as fh:
            return _store_file(data_request, purpose, File(fh, name=name), name, actor)
    if isinstance(content, bytes):
        content = ContentFile(content, name=name)
    row = RequestFile(
        data_request=data_request,
        purpose=purpose,
        name=name,
        content_type=getattr(content, "content_type", "") or "",
        size=getattr(content, "size", 0) or 0,
        uploaded_by=_user_or_none(actor),
    )
    row.file.save(name, content, save=False)
    row.save()
    record_event(data_request, actor=actor or "system", kind=EventKind.FILE, new=name, note=purpose)
    return row


def add_result_file(
    *,
    data_request: DataRequest,
    name: str,
    path_or_file: str | Path | bytes | File,
    actor: AbstractBaseUser | str | None = None,
) -> RequestFile:
    """Store a result file (a path, bytes or a file object) for the requester to download from the status page."""
    return _store_file(data_request, FilePurpose.RESULT, path_or_file, name, actor)


@transaction.atomic
def complete_request(
    *,
    data_request: DataRequest,
    actor: AbstractBaseUser | str | None,
    summary: str,
    files: Iterable[File | tuple[str, str | Path | bytes | File]] = (),
) -> DataRequest:
    """Close the request as done, attach result files, and tell the requester."""
    if not summary.strip():
        raise ValidationError(_("Write a summary of what was done."), code="summary_required")
    data_request = DataRequest.objects.select_for_update().get(pk=data_request.pk)
    if data_request.status == S.VERIFIED:
        data_request = transition_request(data_request=data_request, to_status=S.IN_PROGRESS, actor=actor)
    check_transition(data_request, S.COMPLETED)
    for f in files:
        if isinstance(f, tuple):
            add_result_file(data_request=data_request, name=f[0], path_or_file=f[1], actor=actor)
        else:
            add_result_file(data_request=data_request, name=getattr(f, "name", "result"), path_or_file=f, actor=actor)
    data_request.completion_summary = summary
    data_request.save(update_fields=["completion_summary", "updated_at"])
    return transition_request(data_request=data_request, to_status=S.COMPLETED, actor=actor, note=summary)


@transaction.atomic
def withdraw_request(*, data_request: DataRequest, actor: AbstractBaseUser | str | None) -> DataRequest:
    """The requester (or staff for them) withdraws the request."""
    return transition_request(data_request=data_request, to_status=S.WITHDRAWN, actor=actor)


# --- messages and notes ------------------------------------------------------------


@transaction.atomic
def post_message(
    *, data_request: DataRequest, body: str, author: AbstractBaseUser | str | None = None, from_staff: bool
) -> RequestMessage:
    """Add a message to the requester/staff conversation and notify the other side by e-mail."""
    if not body.strip():
        raise ValidationError(_("The message is empty."), code="empty")
    if not data_request.is_open:
        raise ValidationError(_("This request is closed; please open a new one."), code="closed")
    message = RequestMessage.objects.create(
        data_request=data_request, author=_user_or_none(author), from_staff=from_staff, body=body.strip()
    )
    record_event(
        data_request,
        actor=author if from_staff else (author or "requester"),
        kind=EventKind.MESSAGE,
        note=_("from staff") if from_staff else _("from the requester"),
    )
    if from_staff:
        _queue_mail(data_request, "message")
    else:
        _queue_mail(data_request, "staff_message")
        if data_request.status == S.AWAITING_REQUESTER:
            # The reply hands the request back to staff; an unverified one still needs verifying.
            back = S.IN_PROGRESS if data_request.verified_at else S.AWAITING_VERIFICATION
            transition_request(
                data_request=data_request, to_status=back, actor=author or "requester", note=_("Requester replied.")
            )
    return message


def intake_within_rate(*, client: str, email: str, owner: AbstractBaseUser | None) -> bool:
    """Count one intake submission against the sender's address and the requester's; False once either is spent."""
    # Anonymous submissions for an address count against it (case and "+tags" folded), and never against
    # its signed-in owner, who has a budget of their own: someone else's flood cannot lock them out.
    client_ok = ratelimit.hit(scope="dsr-intake-ip", key=client, rate=settings.DSR_INTAKE_RATE_LIMIT_IP)
    key = f"user:{owner.pk}" if owner is not None else ratelimit.email_key(email)
    email_ok = ratelimit.hit(scope="dsr-intake-email", key=key, rate=settings.DSR_INTAKE_RATE_LIMIT_EMAIL)
    return client_ok and email_ok


def message_within_rate(*, data_request: DataRequest, client: str) -> bool:
    """Count one requester message against the request and the sender's address; False once either is spent."""
    # Both windows count every valid message, as the intake form does.
    request_ok = ratelimit.hit(
        scope="dsr-message", key=str(data_request.pk), rate=settings.DSR_MESSAGE_RATE_LIMIT_REQUEST
    )
    client_ok = ratelimit.hit(scope="dsr-message-ip", key=client, rate=settings.DSR_MESSAGE_RATE_LIMIT_IP)
    return request_ok and client_ok


@transaction.atomic
def add_internal_note(*, data_request: DataRequest, body: str, author: AbstractBaseUser | str | None) -> InternalNote:
    """A staff-only note on the request."""
    if not body.strip():
        raise ValidationError(_("The note is empty."), code="empty")
    note = InternalNote.objects.create(data_request=data_request, author=_user_or_none(author), body=body.strip())
    record_event(data_request, actor=author, kind=EventKind.NOTE, note=body.strip()[:500])
    return note


# --- secret status links -------------------------------------------------------------


def make_status_token(data_request: DataRequest) -> str:
    """The secret part of the status link sent to the requester (revoked by rotating ``status_nonce``)."""
    return signing.Signer(salt=STATUS_SALT).sign(f"{data_request.pk}.{data_request.status_nonce}")


def status_url(data_request: DataRequest) -> str:
    from django.urls import reverse

    return settings.SITE_URL + reverse("requests_app:status", kwargs={"token": make_status_token(data_request)})


# --- scheduled jobs ---------------------------------------------------------------


def _lock(name: str) -> None:
    # Serialise concurrent runs on PostgreSQL; SQLite's immediate transactions already do.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])


def _staff_item(data_request: DataRequest, tz: ZoneInfo) -> dict:
    from django.urls import reverse

    return {
        "reference": data_request.reference,
        "kind": str(RequestKind(data_request.kind).label),
        "status": str(RequestStatus(data_request.status).label),
        "due": deadlines.local_date(data_request.due_at, tz).isoformat(),
        "url": settings.SITE_URL + reverse("admin:requests_app_datarequest_change", args=[data_request.pk]),
    }


@transaction.atomic
def send_deadline_reminders(*, now: datetime | None = None) -> dict:
    """Remind assignees before due dates and escalate unassigned/overdue requests to privacy officers, once each.

    Runs a fixed number of queries whatever the number of requests; mails are digests per recipient.
    """

    from core.tasks import send_templated_mail_task

    now = now or timezone.now()
    tz = org_tz()
    day = deadlines.local_date(now, tz)
    _lock("requests_app.send_deadline_reminders")
    offsets = sorted({int(o) for o in settings.DSR_REMINDER_OFFSETS_DAYS if int(o) >= 0})
    working = [S.VERIFIED, S.IN_PROGRESS, S.AWAITING_REQUESTER]
    candidates: list[tuple[DataRequest, str, str, str]] = []  # (request, kind, key, recipient)

    if offsets:
        horizon = deadlines.end_of_day(day + timedelta(days=offsets[-1]), tz)
        for dr in DataRequest.objects.filter(
            status__in=working, assignee__isnull=False, due_at__lte=horizon, due_at__gte=now
        ).select_related("assignee"):
            if not dr.assignee.email:
                continue
            left = deadlines.days_left(due=deadlines.local_date(dr.due_at, tz), today=day)
            due_iso = deadlines.local_date(dr.due_at, tz).isoformat()
            # Every offset already reached counts as sent, so a late-assigned request gets one mail, not several.
            for offset in offsets:
                if left <= offset:
                    candidates.append((dr, "assignee", f"{offset}d:{due_iso}", dr.assignee.email))

    officers = officer_emails()
    if officers:
        cutoff = now - timedelta(days=settings.DSR_ESCALATE_UNASSIGNED_DAYS)
        from django.db.models import Q

        for dr in DataRequest.objects.filter(
            Q(status__in=working, assignee__isnull=True, received_at__lte=cutoff)
            | Q(status__in=OPEN_STATUSES, due_at__lt=now)
        ):
            reason = "overdue" if dr.due_at < now else "unassigned"
            for email in officers:
                candidates.append((dr, f"escalation_{reason}", day.isoformat(), email))

    if not candidates:
        return {"assignee": 0, "escalation": 0}
    ids = {c[0].pk for c in candidates}
    sent = set(
        SentReminder.objects.filter(
            data_request_id__in=ids, kind__in={c[1] for c in candidates}, key__in={c[2] for c in candidates}
        ).values_list("data_request_id", "kind", "key", "recipient")
    )
    fresh = [c for c in candidates if (c[0].pk, c[1], c[2], c[3]) not in sent]
    SentReminder.objects.bulk_create(
        [SentReminder(data_request=c[0], kind=c[1], key=c[2], recipient=c[3], sent_at=now) for c in fresh],
        ignore_conflicts=True,
    )
    # One digest per recipient and kind: a request appears once even if several offsets fell due together.
    digests: dict[tuple[str, str], dict[int, dict]] = {}
    for dr, kind, _key, recipient in fresh:
        group = "assignee" if kind == "assignee" else "escalation"
        item = _staff_item(dr, tz)
        item["reason"] = kind.removeprefix("escalation_")
        digests.setdefault((recipient, group), {})[dr.pk] = item
    counts = {"assignee": 0, "escalation": 0}
    for (recipient, group), items in digests.items():
        counts[group] += len(items)
        template = "mail/requests_app/staff_reminder" if group == "assignee" else "mail/requests_app/staff_escalation"
        kwargs = {"to": [recipient], "template": template, "context": {"items": list(items.values())}}
        transaction.on_commit(lambda kw=kwargs: send_templated_mail_task.delay(**kw))
    return counts


def expire_unverified_requests(*, now: datetime | None = None) -> dict:
    """Expire requests whose requester never proved who they are; remind them once before each deadline.

    The window (DSR_UNVERIFIED_EXPIRY_DAYS) and its reminder count from ``verification_requested_at``:
    when the request entered the system, or when staff last asked the still-unverified requester for
    information. Never from ``received_at``: that is the legal receipt date, which staff back-date for a
    letter or a call, and the requester must get the whole window after our mail. Unverified requests
    waiting in "awaiting requester" expire exactly like those "awaiting verification"; verifying by
    link or by staff takes a request out of both.
    """
    now = now or timezone.now()
    expiry = timedelta(days=settings.DSR_UNVERIFIED_EXPIRY_DAYS)
    remind_before = timedelta(
        days=min(VERIFICATION_REMINDER_DAYS_BEFORE, max(settings.DSR_UNVERIFIED_EXPIRY_DAYS - 1, 0))
    )
    unverified = DataRequest.objects.filter(status__in=UNVERIFIED_WAITING, verified_at__isnull=True)
    expired = 0
    for dr in unverified.filter(verification_requested_at__lte=now - expiry):
        try:
            transition_request(data_request=dr, to_status=S.EXPIRED, actor="system", note=_("Not verified in time."))
            expired += 1
        except ValidationError:
            continue  # changed meanwhile
    reminded = 0
    # One reminder per window: none sent since the window (re)started.
    already = SentReminder.objects.filter(
        data_request=OuterRef("pk"),
        kind="verification_reminder",
        sent_at__gte=OuterRef("verification_requested_at"),
    )
    due_for_reminder = unverified.filter(
        verification_requested_at__lte=now - expiry + remind_before,
        verification_requested_at__gt=now - expiry,
    ).filter(~Exists(already))
    for dr in due_for_reminder:
        with transaction.atomic():
            _obj, created = SentReminder.objects.get_or_create(
                data_request=dr,
                kind="verification_reminder",
                key=dr.verification_requested_at.isoformat(),
                recipient=dr.requester_email,
                defaults={"sent_at": now},
            )
            if created:
                record_event(dr, actor="system", kind=EventKind.REMINDER, note="verification_reminder")
                _queue_mail(dr, "verification_reminder")
                reminded += 1
    return {"expired": expired, "reminded": reminded}


# --- request figures (the metrics page's roll-up) ----------------------------------

# Requests changed up to this long before the last run are looked at again: a change that committed just after
# the run began, with an earlier time, is not missed.
FIGURES_MARGIN = timedelta(minutes=10)

_ANSWERED = (RequestStatus.COMPLETED, RequestStatus.DENIED)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def _recount_month(*, first: date, tz: ZoneInfo) -> int:
    """Replace one month's figures with a fresh count of the requests received in it; returns the rows written."""
    from requests_app.models import RequestMonthlyFigures

    start = _datetime.combine(first, _datetime.min.time(), tzinfo=tz)
    end = _datetime.combine(_next_month(first), _datetime.min.time(), tzinfo=tz)
    groups: dict[tuple[str, str, str], dict] = {}
    # A repeat submission folded into the same person's open request is that request, not another one.
    requests = DataRequest.objects.filter(received_at__gte=start, received_at__lt=end, merged_into__isnull=True)
    for kind, jurisdiction, status, received_at, closed_at, due_at in requests.values_list(
        "kind", "jurisdiction", "status", "received_at", "closed_at", "due_at"
    ).iterator(chunk_size=2000):
        row = groups.setdefault(
            (kind, jurisdiction, status), {"received": 0, "answered": 0, "on_time": 0, "days_total": 0.0, "tenths": {}}
        )
        row["received"] += 1
        if status in _ANSWERED and closed_at is not None:
            days = (closed_at - received_at).total_seconds() / 86400
            tenths = str(round(days * 10))
            row["answered"] += 1
            row["on_time"] += closed_at <= due_at
            row["days_total"] += days
            row["tenths"][tenths] = row["tenths"].get(tenths, 0) + 1
    RequestMonthlyFigures.objects.filter(month=first).delete()
    RequestMonthlyFigures.objects.bulk_create(
        [
            RequestMonthlyFigures(
                month=first,
                kind=kind,
                jurisdiction=jurisdiction,
                status=status,
                received=row["received"],
                answered=row["answered"],
                on_time=row["on_time"],
                days_total=row["days_total"],
                days_tenths=row["tenths"],
            )
            for (kind, jurisdiction, status), row in groups.items()
        ]
    )
    return len(groups)


@transaction.atomic
def summarise_requests(*, now: datetime | None = None, full: bool = False) -> dict:
    """Bring the monthly request figures up to date, recounting only the months that changed.

    A month is recounted when one of its requests changed since shortly before the last run (every change of
    a request goes through this module and moves its ``updated_at``), when it holds an open request, and
    for every month since the last run, so a run after downtime catches up. Recounting replaces a month's
    figures, so a rerun gives the same figures. ``full`` recounts every month the requests span. Months are
    those of receipt in the organisation's time zone. Requests that retention has since deleted stay counted
    in months that nothing else touches; a full recount counts only the requests still held. No audit row:
    the figures are derived and change every few minutes. Runs one at a time (an advisory lock on PostgreSQL).
    """
    from django.db.models import Max, Min
    from django.db.models.functions import TruncMonth

    from requests_app.models import RequestFiguresState, RequestMonthlyFigures

    now = now or timezone.now()
    tz = org_tz()
    _lock("requests_app.summarise_requests")
    state, _created = RequestFiguresState.objects.select_for_update().get_or_create(key="requests")
    months: set[date] = set()
    this_month = _month_start(timezone.localtime(now, tz).date())
    if full or state.summarised_at is None:
        bounds = DataRequest.objects.aggregate(first=Min("received_at"), last=Max("received_at"))
        if bounds["first"] is not None:
            month = _month_start(timezone.localtime(bounds["first"], tz).date())
            last = _month_start(timezone.localtime(bounds["last"], tz).date())
            while month <= last:
                months.add(month)
                month = _next_month(month)
        RequestMonthlyFigures.objects.exclude(month__in=months).delete()
    else:
        changed = DataRequest.objects.filter(
            Q(updated_at__gte=state.summarised_at - FIGURES_MARGIN) | Q(status__in=OPEN_STATUSES)
        )
        for first in changed.annotate(m=TruncMonth("received_at", tzinfo=tz)).values_list("m", flat=True).distinct():
            months.add(first.date() if isinstance(first, _datetime) else first)
        month = _month_start(timezone.localtime(state.summarised_at - FIGURES_MARGIN, tz).date())
        while month <= this_month:
            months.add(month)
            month = _next_month(month)
    rows = sum(_recount_month(first=m, tz=tz) for m in sorted(months))
    state.summarised_at = now
    state.save(update_fields=["summarised_at"])
    return {"months": len(months), "rows": rows}
