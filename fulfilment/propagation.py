"""Telling the recipients: an opt-out of sale or sharing, a withdrawn consent, a restriction or an erasure reaches
every connected system that declares the matching action (``opt_out``, ``consent``, ``restriction``,
``erasure``), and the propagation ledger records each recipient told, by when the law wants it, and whether it
confirmed.

- Due dates: a CCPA opt-out within 15 business days (Cal. Code Regs. tit. 11 §7026(f)); GDPR notices (Art. 19
  for erasure and restriction, a withdrawn consent under Art. 7(3)) "without undue delay", counted as
  ``PROPAGATION_GDPR_DAYS`` days (30 by default).
- For a request, each notice is one of the request's connected-system tasks (a signed call with retries, or the
  owner's task with its link, reminders and reassignment), and its ledger row follows the task.
- Outside a request (a consent withdrawn on the account's page, an unsubscribe link, a Global Privacy Control
  signal from a logged-in account), the row itself is sent: a signed call to a web service (its answer or
  callback confirms it), or a mail to a manual system's owner with a link to confirm it.
- Third parties (``consent.Vendor``) are told only of the events that concern what they receive (a purpose,
  sale or sharing, kinds of data), by the method chosen for each: through a web service (then that system is told
  only as the third party), by a mail to their privacy contact with a link to confirm, or not at all.
- Overdue rows are marked overdue and reach the privacy officers in a daily digest (``remind_system_tasks``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit_services
from consent.models import PropagationMethod, Vendor
from core.permissions import officer_emails
from fulfilment.models import (
    Propagation,
    PropagationEvent,
    PropagationState,
    SystemTask,
    TaskState,
)
from systems import selectors as systems_selectors
from systems import webhooks
from systems.engine import SystemUnavailable
from systems.models import ExternalSystem, Kind

if TYPE_CHECKING:
    from datetime import datetime

    from django.contrib.auth.base_user import AbstractBaseUser

    from requests_app.models import DataRequest

# The connected systems' action each event is sent as.
ACTIONS = {
    PropagationEvent.OPT_OUT: "opt_out",
    PropagationEvent.CONSENT_WITHDRAWN: "consent",
    PropagationEvent.RESTRICTION: "restriction",
    PropagationEvent.ERASURE: "erasure",
}
CCPA_OPT_OUT_BUSINESS_DAYS = 15
CONFIRM_PERM = "fulfilment.change_propagation"


def due_date(*, event: str, at: datetime) -> tuple[datetime, str]:
    """When the recipient must have been told, and the rule that says so (a pure rule, unit-tested)."""
    from requests_app import deadlines

    if event == PropagationEvent.OPT_OUT:
        tz = timezone.get_current_timezone()
        holidays = deadlines.parse_holidays(settings.DSR_HOLIDAYS)
        day = deadlines.add_business_days(timezone.localtime(at, tz).date(), CCPA_OPT_OUT_BUSINESS_DAYS, holidays)
        return deadlines.end_of_day(day, tz), "CCPA: 15 business days (Cal. Code Regs. tit. 11 §7026(f))"
    days = settings.PROPAGATION_GDPR_DAYS
    article = "Art. 7(3)" if event == PropagationEvent.CONSENT_WITHDRAWN else "Art. 19"
    return at + timedelta(days=days), f"GDPR {article}: without undue delay ({days} days)"


def _audit(row: Propagation, *, verb: str, actor=None, old=None, new=None, note: str = "") -> None:
    audit_services.record_event(
        actor=actor or "system",
        obj=row,
        verb=verb,
        old=old,
        new=new,
        note=note,
        request_reference=row.request_reference,
    )


# --- recording and sending --------------------------------------------------------------------------------------


@transaction.atomic
def propagate(
    *,
    event: str,
    data_request: DataRequest | None = None,
    user: AbstractBaseUser | None = None,
    email: str = "",
    purpose: str = "",
    now: datetime | None = None,
    skip: set[str] | frozenset[str] = frozenset(),
) -> list[Propagation]:
    """Tell every connected system that declares the event's action; one ledger row per recipient, sent after
    commit. For a request, the notice is the request's task for that system (an erasure's is the erasure task
    itself); a recipient already told of this request's event is not told twice."""
    now = now or timezone.now()
    action = ACTIONS[event]
    due, rule = due_date(event=event, at=now)
    rows = []
    if data_request is not None:
        email = email or data_request.requester_email
        user_id = data_request.user_id
        reference = data_request.reference
    else:
        email = email or (getattr(user, "email", "") or "")
        user_id = getattr(user, "pk", None)
        reference = ""
    if not (email or user_id):
        return []
    # A web service that tells a third party hears only what concerns that third party.
    vendor_systems = set(
        Vendor.objects.filter(propagation_method=PropagationMethod.HTTP).values_list(
            "propagation_system__key", flat=True
        )
    )
    targets: list[_Target] = []
    if data_request is not None and event == PropagationEvent.ERASURE:
        # The systems were asked to erase as part of the request: those tasks are the notices (Art. 19).
        tasks = list(data_request.system_tasks.filter(action="erasure"))
        targets += [_Target(t.system_key, t.system_name, task=t) for t in tasks if t.system_key not in vendor_systems]
    else:
        systems = systems_selectors.list_task_systems(action=action)
        targets += [_Target(s.key, s.name, system=s) for s in systems if s.key not in vendor_systems]
    targets += _vendor_targets(event=event, purpose=purpose, data_request=data_request)
    for target in targets:
        key = target.key
        if key in skip:
            continue
        if (
            data_request is not None
            and Propagation.objects.filter(data_request=data_request, event=event, recipient_key=key).exists()
        ):
            continue
        task = target.task
        if data_request is not None and task is None and target.system is not None:
            task = _task_for(data_request=data_request, system=target.system, action=action, due=due)
        by_mail = task is None and (target.contact_email or (target.system and target.system.kind == Kind.MANUAL))
        row = Propagation.objects.create(
            event=event,
            rule=rule,
            recipient_key=key,
            recipient_name=target.name,
            vendor=target.vendor,
            system_key=target.system.key if target.system is not None else "",
            contact_email=target.contact_email,
            data_request=data_request,
            task=task,
            request_reference=reference,
            # A mailed notice names the person (a request's may be sealed before the mail goes); a call names them
            # from the request.
            subject_email=email if (data_request is None or by_mail) else "",
            user_id=user_id if data_request is None else None,
            purpose=purpose[:80],
            due_at=due,
        )
        _audit(row, verb="propagation_recorded", new=PropagationState.PENDING, note=f"{target.name}: {rule}")
        if task is not None:
            sync_from_task(task=task)
        elif target.problem:
            fail_propagation(row=row, reason=target.problem)
        else:
            row_id = row.pk
            transaction.on_commit(lambda row_id=row_id: _queue_send(row_id))
        rows.append(row)
    return rows


@dataclass
class _Target:
    """One recipient to tell, and how: a request's task, a connected system, or a third party's privacy contact."""

    key: str
    name: str
    system: ExternalSystem | None = None
    task: SystemTask | None = None
    vendor: Vendor | None = None
    contact_email: str = ""
    problem: str = ""  # why it cannot be told as chosen (the row fails at once and the officers hear of it)


def vendor_key(vendor: Vendor) -> str:
    """A third party's recipient key in the ledger (beside the connected systems' own keys)."""
    return f"vendor-{vendor.pk}"


def _vendor_targets(*, event: str, purpose: str, data_request: DataRequest | None) -> list[_Target]:
    from consent import selectors as consent_selectors
    from fulfilment.selectors import subject_data_categories

    categories: set[str] = set()
    if event in (PropagationEvent.ERASURE, PropagationEvent.RESTRICTION) and data_request is not None:
        categories = subject_data_categories(data_request=data_request)
    # A GPC signal names "sale_or_sharing", not a purpose: every opt-out concerns the same third parties.
    wanted = "" if event == PropagationEvent.OPT_OUT else purpose
    vendors = consent_selectors.vendors_to_tell(event=event, purpose=wanted, categories=categories)
    action = ACTIONS[event]
    targets = []
    for vendor in vendors:
        target = _Target(vendor_key(vendor), vendor.name, vendor=vendor)
        system = vendor.propagation_system
        if vendor.propagation_method == PropagationMethod.NONE:
            continue  # the reason it is not told is on the third party's page
        if vendor.propagation_method == PropagationMethod.HTTP and system is not None and system.supports(action):
            target.system = system
        elif vendor.privacy_email:
            # E-mail chosen, or a web service that does not take this kind of notice: the privacy contact is told.
            target.contact_email = vendor.privacy_email
        else:
            target.problem = _("%(system)s does not take this kind of notice, and no privacy contact is given.") % {
                "system": system.name if system is not None else vendor.name
            }
        targets.append(target)
    return targets


def propagate_consent(*, user: AbstractBaseUser, purpose: str, gpc: bool = False) -> list[Propagation]:
    """A known person withdrew a purpose consent (or their browser sent GPC): tell the recipients. A GPC signal
    is an opt-out once per account: a recipient already told (and not failed) is not told again."""
    if gpc:
        told = set(
            Propagation.objects.filter(user_id=user.pk, event=PropagationEvent.OPT_OUT)
            .exclude(state=PropagationState.FAILED)
            .values_list("recipient_key", flat=True)
        )
        rows = propagate(event=PropagationEvent.OPT_OUT, user=user, purpose=purpose, skip=told)
    else:
        rows = propagate(event=PropagationEvent.CONSENT_WITHDRAWN, user=user, purpose=purpose)
    return rows


def _task_for(*, data_request: DataRequest, system: ExternalSystem, action: str, due: datetime) -> SystemTask:
    from fulfilment import connected

    task, created = SystemTask.objects.get_or_create(
        data_request=data_request,
        system_key=system.key,
        action=action,
        defaults={"system_name": system.name, "kind": system.kind, "owner_email": system.owner_email, "due_at": due},
    )
    if created:
        connected._audit(task, verb="task_opened", new=TaskState.PENDING, note=system.name)
        task_id = task.pk
        transaction.on_commit(lambda: connected._queue_send(task_id))
    return task


def _queue_send(row_id: int) -> None:
    from fulfilment.tasks import send_propagation_task

    send_propagation_task.delay(row_id)


def payload(row: Propagation) -> dict:
    """The body of the call: the documented fields of every call, with the event and the purpose concerned."""
    return {
        "reference": row.request_reference,
        "action": ACTIONS[row.event],
        "event": row.event,
        "purpose": row.purpose or None,
        "identity": {"email": row.subject_email or None, "user_id": row.user_id},
        "callback_url": settings.SITE_URL + reverse("fulfilment:system_callback", args=[row.idempotency_key]),
        "idempotency_key": str(row.idempotency_key),
    }


def send_propagation(*, row: Propagation) -> Propagation:
    """Tell one recipient outside a request: a signed call (``SystemUnavailable`` is raised for the Celery task
    to retry), or a mail to a manual system's owner."""
    if row.task_id is not None or row.state not in (PropagationState.PENDING, PropagationState.OVERDUE):
        return row
    if row.vendor_id is not None and not row.system_key:
        return _mail_contact(row, to=row.contact_email)
    system = ExternalSystem.objects.filter(key=row.system_key or row.recipient_key).first()
    if system is None:
        return fail_propagation(row=row, reason=_("The system is no longer declared."))
    if system.kind != Kind.HTTP:
        return _mail_contact(row, to=system.owner_email)
    try:
        answer = webhooks.post_action(system, ACTIONS[row.event], payload(row))
    except SystemUnavailable as exc:
        Propagation.objects.filter(pk=row.pk).update(
            error=_("Waiting on %(system)s: %(reason)s") % {"system": row.recipient_name, "reason": exc.reason}
        )
        raise
    with transaction.atomic():
        row = Propagation.objects.select_for_update().get(pk=row.pk)
        old = row.state
        if answer.accepted:
            row.state = PropagationState.SENT
        elif answer.body.get("status", "done") == "done":
            row.state, row.confirmed_at = PropagationState.CONFIRMED, timezone.now()
        else:
            return fail_propagation(row=row, reason=str(answer.body.get("error") or answer.body.get("status")))
        row.sent_at, row.error = timezone.now(), ""
        if row.state == PropagationState.CONFIRMED:
            row.subject_email = ""  # the proof is the recipient, the account number and the dates
        row.save(update_fields=["state", "sent_at", "confirmed_at", "error", "subject_email", "changed_at"])
        _audit(row, verb="propagation_sent", actor=row.recipient_name, old=old, new=row.state)
    return row


@transaction.atomic
def _mail_contact(row: Propagation, *, to: str) -> Propagation:
    """Mail the recipient's contact (a third party's privacy contact, or a manual system's owner) what happened,
    about whom and by when, with a link to confirm it is done; the link's secret is only in the mail."""
    from core.tasks import send_templated_mail_task
    from fulfilment.connected import new_link_token

    if not to:
        return fail_propagation(row=row, reason=_("No e-mail address to tell it at."))
    old = row.state
    token, row.token_hash = new_link_token()
    row.token_expires_at = row.due_at + timedelta(days=settings.SYSTEM_TASK_LINK_GRACE_DAYS)
    row.state, row.sent_at, row.contact_email = PropagationState.SENT, timezone.now(), to
    row.save(update_fields=["state", "sent_at", "contact_email", "token_hash", "token_expires_at", "changed_at"])
    _audit(row, verb="propagation_sent", old=old, new=row.state, note=to)
    context = {
        "recipient": row.recipient_name,
        "event": row.event,
        "purpose": purpose_title(row.purpose),
        "email": row.subject_email,
        "reference": row.request_reference,
        "due": timezone.localtime(row.due_at).date().isoformat(),
        "url": settings.SITE_URL + reverse("fulfilment:confirm_notice", args=[token]),
    }
    transaction.on_commit(
        lambda: send_templated_mail_task.delay(to=[to], template="mail/fulfilment/recipient_notice", context=context)
    )
    return row


def purpose_title(key: str) -> str:
    from consent.models import Purpose

    if not key:
        return ""
    purpose = Purpose.objects.filter(key=key).first()
    return str(purpose) if purpose is not None else key


def notice_for_token(*, token: str) -> Propagation | None:
    """The notice a mailed confirmation link opens; None when unknown, expired, or already confirmed."""
    from fulfilment.connected import hash_link_token

    if not token or len(token) > 100:
        return None
    row = (
        Propagation.objects.filter(
            token_hash=hash_link_token(token), state__in=[PropagationState.SENT, PropagationState.OVERDUE]
        )
        .select_related("data_request")
        .first()
    )
    if row is None or row.token_expires_at is None or row.token_expires_at <= timezone.now():
        return None
    return row


def confirm_notice_by_link(*, row: Propagation) -> Propagation:
    """The recipient's contact confirmed from the mailed link that they acted on it; the link is spent."""
    return confirm_propagation(row=row, actor=row.contact_email or row.recipient_name)


@transaction.atomic
def fail_propagation(*, row: Propagation, reason: str) -> Propagation:
    """The recipient could not be told (its retries ran out, or it refused): the privacy officers are alerted."""
    from core.tasks import send_templated_mail_task

    row = Propagation.objects.select_for_update().get(pk=row.pk)
    old, row.state, row.error = row.state, PropagationState.FAILED, reason[:2000]
    row.save(update_fields=["state", "error", "changed_at"])
    _audit(row, verb="propagation_failed", old=old, new=row.state, note=reason[:500])
    to = officer_emails()
    context = {"system": row.recipient_name, "reference": row.request_reference or "—", "reason": reason[:2000]}
    if to:
        transaction.on_commit(
            lambda: send_templated_mail_task.delay(
                to=to, template="mail/fulfilment/system_task_failed", context=context
            )
        )
    return row


def receive_callback(*, row: Propagation, body: bytes, signature: str) -> Propagation:
    """A web service's signed callback for a notice it answered 202: confirms it. Refused (``PermissionDenied``)
    when wrongly signed, stale, or a replay of a confirmation already received."""
    import json

    from django.core.exceptions import PermissionDenied, ValidationError

    system = ExternalSystem.objects.filter(key=row.system_key or row.recipient_key, kind=Kind.HTTP).first()
    if system is None:
        raise PermissionDenied("unknown task")
    try:
        key = webhooks.signing_key(system)
    except SystemUnavailable:
        raise PermissionDenied("no signing key") from None
    if webhooks.verify(key, body, signature) is None:
        raise PermissionDenied("bad or stale signature")
    if row.state in (PropagationState.CONFIRMED, PropagationState.FAILED):
        raise PermissionDenied("already answered")
    try:
        answer = json.loads(body)
    except ValueError:
        raise ValidationError("not JSON") from None
    if not isinstance(answer, dict) or answer.get("idempotency_key") not in (None, str(row.idempotency_key)):
        raise ValidationError("not this task's answer")
    if answer.get("status") not in ("done", None):
        return fail_propagation(row=row, reason=str(answer.get("error") or answer.get("status"))[:500])
    return confirm_propagation(row=row, actor=row.recipient_name)


@transaction.atomic
def confirm_propagation(*, row: Propagation, actor: AbstractBaseUser | str) -> Propagation:
    """The recipient confirmed it acted on the notice (its callback, or staff who heard back from its owner)."""
    if not isinstance(actor, str):
        from core.permissions import require_perm

        require_perm(actor, CONFIRM_PERM, _("You may not change the list of recipients told."))
    row = Propagation.objects.select_for_update().get(pk=row.pk)
    if row.task_id is not None or row.state == PropagationState.CONFIRMED:
        return row  # a request's notice is confirmed by answering its task
    old = row.state
    row.state, row.confirmed_at, row.error = PropagationState.CONFIRMED, timezone.now(), ""
    row.sent_at = row.sent_at or row.confirmed_at
    row.subject_email = ""  # no longer needed to tell it: the proof is the recipient, the account number, the dates
    row.token_hash = ""  # a mailed link confirms once
    row.save(update_fields=["state", "confirmed_at", "sent_at", "error", "subject_email", "token_hash", "changed_at"])
    _audit(row, verb="propagation_confirmed", actor=actor, old=old, new=row.state)
    return row


def resend_propagation(*, row: Propagation, actor: AbstractBaseUser) -> Propagation:
    """Staff send a notice again: a request's through its task, any other as a new call or owner mail."""
    from core.permissions import require_perm

    require_perm(actor, CONFIRM_PERM, _("You may not change the list of recipients told."))
    if row.task_id is not None:
        from fulfilment.services import resend_system_task

        resend_system_task(task=row.task, actor=actor)
        return row
    with transaction.atomic():
        old = row.state
        Propagation.objects.filter(pk=row.pk).update(state=PropagationState.PENDING, error="")
        _audit(row, verb="propagation_pending", actor=actor, old=old, new=PropagationState.PENDING)
        row_id = row.pk
        transaction.on_commit(lambda: _queue_send(row_id))
    row.refresh_from_db()
    return row


# Task state -> ledger state, for the notices made as a request's tasks.
_FROM_TASK = {
    TaskState.PENDING: PropagationState.PENDING,
    TaskState.SENT: PropagationState.SENT,
    TaskState.WAITING: PropagationState.SENT,
    TaskState.DONE: PropagationState.CONFIRMED,
    TaskState.FAILED: PropagationState.FAILED,
    TaskState.SKIPPED: PropagationState.FAILED,
}


def sync_from_task(*, task: SystemTask) -> None:
    """A request's task changed: its ledger rows follow (told when sent, confirmed when done)."""
    rows = Propagation.objects.filter(task=task)
    state = _FROM_TASK.get(task.state, PropagationState.PENDING)
    now = timezone.now()
    for row in rows:
        updates: dict = {"state": state, "error": task.error or ""}
        if state in (PropagationState.PENDING, PropagationState.SENT) and row.due_at < now:
            updates["state"] = PropagationState.OVERDUE
        if state in (PropagationState.SENT, PropagationState.CONFIRMED) and row.sent_at is None:
            updates["sent_at"] = now
        if state == PropagationState.CONFIRMED and row.confirmed_at is None:
            updates["confirmed_at"] = now
        if updates["state"] != row.state:
            _audit(row, verb="propagation_" + str(updates["state"]), old=row.state, new=updates["state"])
        Propagation.objects.filter(pk=row.pk).update(changed_at=now, **updates)


# --- overdue rows -------------------------------------------------------------------------------------------------


def remind_overdue_propagations(*, now: datetime | None = None) -> int:
    """Mark the notices past their due date overdue and send the privacy officers one digest a day of them."""
    from core.tasks import send_templated_mail_task

    now = now or timezone.now()
    today = timezone.localtime(now).date()
    late = list(
        Propagation.objects.filter(
            state__in=[PropagationState.PENDING, PropagationState.SENT, PropagationState.OVERDUE], due_at__lt=now
        ).order_by("due_at")
    )
    for row in late:
        if row.state != PropagationState.OVERDUE:
            _audit(row, verb="propagation_overdue", old=row.state, new=PropagationState.OVERDUE)
    Propagation.objects.filter(pk__in=[r.pk for r in late]).update(state=PropagationState.OVERDUE)
    fresh = [r for r in late if r.reminded_on != today]
    officers = officer_emails()
    if not fresh or not officers:
        return 0
    items = [
        {
            "recipient": r.recipient_name,
            "event": str(r.get_event_display()),
            "reference": r.request_reference or "—",
            "due": timezone.localtime(r.due_at).date().isoformat(),
            "rule": r.rule,
        }
        for r in fresh
    ]
    Propagation.objects.filter(pk__in=[r.pk for r in fresh]).update(reminded_on=today)
    context = {"items": items, "url": settings.SITE_URL + reverse("admin:fulfilment_propagation_changelist")}
    transaction.on_commit(
        lambda: send_templated_mail_task.delay(
            to=officers, template="mail/fulfilment/propagation_overdue", context=context
        )
    )
    return len(items)


# --- reads -----------------------------------------------------------------------------------------------------


def told_for_request(*, data_request: DataRequest) -> list[Propagation]:
    """The recipients told of this request's outcome, for its pages."""
    return list(data_request.propagations.order_by("recipient_name"))


def recipients_told_for_user(*, user: AbstractBaseUser) -> list[dict]:
    """What an account's consents page shows of the notices sent for its own choices (outside any request)."""
    from consent.models import Purpose

    rows = Propagation.objects.filter(user_id=user.pk, data_request__isnull=True).order_by("-created_at")[:50]
    titles = {p.key: str(p) for p in Purpose.objects.filter(key__in={r.purpose for r in rows})}
    return [
        {
            "recipient": r.recipient_name,
            "event": r.event,
            "purpose_title": titles.get(r.purpose, ""),
            "told_at": r.sent_at,
            "confirmed_at": r.confirmed_at,
            "state": r.state,
        }
        for r in rows
    ]
