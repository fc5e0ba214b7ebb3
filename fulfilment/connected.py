"""A request's work in the systems the portal cannot query: HTTP services (a signed call, answered at once or by
a signed callback) and systems only a person can search (a task mailed to the system's owner).

Each is one ``SystemTask`` of the request: its checklist line. A call that fails is retried with backoff; when
the retries run out the task goes to the system's owner, so it never completes silently. An access export waits
until every task of the request is settled, then holds their answers.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit import services as audit_services
from core.permissions import officer_emails
from fulfilment.models import SystemTask, SystemTaskFile, TaskState
from systems import selectors as systems_selectors
from systems import services as systems_services
from systems import webhooks
from systems.engine import SystemUnavailable
from systems.models import ExternalSystem, Kind

if TYPE_CHECKING:
    from datetime import datetime

    from django.contrib.auth.base_user import AbstractBaseUser
    from django.core.files.uploadedfile import UploadedFile

    from requests_app.models import DataRequest

TASK_ACTIONS = {"access": "access", "portability": "access", "erasure": "erasure", "rectification": "rectification"}
# Actions that tell a recipient of an event (README, "Telling the recipients"), and the event each names.
NOTICE_EVENTS = {"opt_out": "opt_out", "consent": "consent_withdrawn", "restriction": "restriction"}
UPLOAD_TYPES = {".csv": "text/csv", ".json": "application/json", ".pdf": "application/pdf"}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_link_token() -> tuple[str, str]:
    """A mailed link's secret and the hash that is kept of it (the owners' task links, the recipients' confirmation
    links): the secret itself is only ever in the mail."""
    token = secrets.token_urlsafe(32)
    return token, _hash(token)


def hash_link_token(token: str) -> str:
    """The kept hash of a link's secret, to look the link up."""
    return _hash(token)


def _audit(
    task: SystemTask,
    *,
    verb: str,
    actor: AbstractBaseUser | str | None = None,
    old: object = None,
    new: object = None,
    note: str = "",
) -> None:
    audit_services.record_event(
        actor=actor,
        obj=task,
        verb=verb,
        old=old,
        new=new,
        note=note,
        request_reference=task.data_request.reference,
    )


def _due(data_request: DataRequest) -> datetime | None:
    # Owners answer a few days before the legal deadline, so staff have time to put the answer together.
    if data_request.due_at is None:
        return None
    return max(timezone.now(), data_request.due_at - timedelta(days=settings.SYSTEM_TASK_DAYS_BEFORE_DEADLINE))


def _system(task: SystemTask) -> ExternalSystem | None:
    return ExternalSystem.objects.filter(key=task.system_key).first()


# --- opening and sending ---------------------------------------------------------------------------------------


@transaction.atomic
def open_system_tasks(*, data_request: DataRequest) -> list[SystemTask]:
    """One task per HTTP or manual system that takes part in this request's kind; sent after commit."""
    action = TASK_ACTIONS.get(data_request.kind)
    if action is None:
        return []
    tasks = []
    for system in systems_selectors.list_task_systems(action=action):
        task, created = SystemTask.objects.get_or_create(
            data_request=data_request,
            system_key=system.key,
            action=action,
            defaults={
                "system_name": system.name,
                "kind": system.kind,
                "owner_email": system.owner_email,
                "due_at": _due(data_request),
            },
        )
        if created:
            _audit(task, verb="task_opened", new=TaskState.PENDING, note=system.name)
            task_id = task.pk
            transaction.on_commit(lambda task_id=task_id: _queue_send(task_id))
        tasks.append(task)
    return tasks


def _queue_send(task_id: int) -> None:
    from fulfilment.tasks import send_system_task_task

    send_system_task_task.delay(task_id)


def request_payload(task: SystemTask) -> dict:
    """The documented body of a call: reference, action, identity, callback URL and idempotency key."""
    dr = task.data_request
    body = {
        "reference": dr.reference,
        "action": task.action,
        "identity": {"email": dr.requester_email, "user_id": dr.user_id},
        "callback_url": settings.SITE_URL + reverse("fulfilment:system_callback", args=[task.idempotency_key]),
        "idempotency_key": str(task.idempotency_key),
    }
    if task.action in NOTICE_EVENTS:  # a notice to a recipient: the same keys as one sent outside a request
        body.update({"event": NOTICE_EVENTS[task.action], "purpose": None})
    return body


def send_system_task(*, task: SystemTask) -> SystemTask:
    """Carry the task out: call the HTTP system, or mail the owner their link. An HTTP failure raises
    ``SystemUnavailable`` after noting it, for the Celery task to retry with backoff."""
    if task.state not in (TaskState.PENDING, TaskState.SENT) or task.is_settled:
        return task
    if task.kind == Kind.MANUAL:
        if task.state == TaskState.SENT and task.token_hash:
            return task  # already with its owner: a late retry of an earlier call must not replace their link
        return _mail_owner(task)
    system = _system(task)
    if system is None:
        return _fail(task, reason=_("The system is no longer declared."))
    SystemTask.objects.filter(pk=task.pk).update(attempts=task.attempts + 1)
    try:
        answer = webhooks.post_action(system, task.action, request_payload(task))
    except SystemUnavailable as exc:
        text = _("Waiting on %(system)s: %(reason)s") % {"system": task.system_name, "reason": exc.reason}
        with transaction.atomic():
            if task.error != text:
                _audit(task, verb="task_retrying", note=text)
            SystemTask.objects.filter(pk=task.pk).update(state=TaskState.SENT, error=text)
        raise
    if answer.accepted:
        with transaction.atomic():
            SystemTask.objects.filter(pk=task.pk).update(state=TaskState.WAITING, error="")
            _audit(task, verb="task_waiting", old=task.state, new=TaskState.WAITING)
            task.refresh_from_db()
            _sync_ledger(task)
        return task
    return complete_task(task=task, result=answer.body)


def give_task_to_owner(*, task: SystemTask) -> SystemTask:
    """The HTTP system kept failing: its owner gets the task by mail instead (never a silent completion)."""
    with transaction.atomic():
        SystemTask.objects.filter(pk=task.pk).update(kind=Kind.MANUAL, state=TaskState.PENDING)
        _audit(task, verb="task_to_owner", note=task.error)
    task.refresh_from_db()
    return _mail_owner(task)


@transaction.atomic
def _mail_owner(task: SystemTask, *, reminder: bool = False) -> SystemTask:
    from core.tasks import send_templated_mail_task

    token, task.token_hash = new_link_token()
    task.token_expires_at = (task.due_at or timezone.now()) + timedelta(days=settings.SYSTEM_TASK_LINK_GRACE_DAYS)
    old, task.state = task.state, TaskState.SENT
    task.save(update_fields=["token_hash", "token_expires_at", "state", "reminded_key", "changed_at"])
    _audit(
        task, verb="task_reminded" if reminder else "task_mailed", old=old, new=TaskState.SENT, note=task.owner_email
    )
    _sync_ledger(task)
    template = "mail/fulfilment/system_task_reminder" if reminder else "mail/fulfilment/system_task"
    context = {
        "system": task.system_name,
        "reference": task.data_request.reference,
        "action": task.action,
        "instructions": task.instructions,
        "due": timezone.localtime(task.due_at).date().isoformat() if task.due_at else "",
        "url": settings.SITE_URL + reverse("fulfilment:system_task", args=[token]),
    }
    to = [task.owner_email]
    transaction.on_commit(lambda: send_templated_mail_task.delay(to=to, template=template, context=context))
    return task


# --- answers ---------------------------------------------------------------------------------------------------


@transaction.atomic
def complete_task(
    *, task: SystemTask, result: dict | None = None, note: str = "", actor: AbstractBaseUser | str | None = None
) -> SystemTask:
    """Mark the task done with its answer; an export waiting on it is built again."""
    task = SystemTask.objects.select_for_update().get(pk=task.pk)
    if task.is_settled:
        return task
    old = task.state
    undeclared = _undeclared_titles(task, result or {})
    if undeclared:
        warning = _("Sent data under titles it does not declare (%(titles)s): declare them on the system's page.") % {
            "titles": ", ".join(undeclared)
        }
        note = f"{note} {warning}".strip()
    task.state, task.result, task.answer_note, task.error = TaskState.DONE, result or {}, note, ""
    task.token_hash = ""  # the owner's link is spent
    task.save(update_fields=["state", "result", "answer_note", "error", "token_hash", "changed_at"])
    _audit(task, verb="task_done", actor=actor, old=old, new=TaskState.DONE, note=note)
    _sync_ledger(task)
    request_id = task.data_request_id
    transaction.on_commit(lambda: _resume_request(request_id))
    return task


def _sync_ledger(task: SystemTask) -> None:
    # A task that is a notice to a recipient (an opt-out, a restriction, an erasure): its ledger rows follow it.
    if task.propagations.exists():
        from fulfilment.propagation import sync_from_task

        sync_from_task(task=task)


def _undeclared_titles(task: SystemTask, result: dict) -> list[str]:
    # An HTTP system's data under a title it does not declare is exported all the same; staff are told to declare it.
    data = result.get("data")
    system = _system(task) if isinstance(data, dict) and data else None
    if system is None:
        return []
    return systems_services.note_undeclared_titles(
        system=system, titles=[str(k) for k in data], request_reference=task.data_request.reference
    )


@transaction.atomic
def _fail(task: SystemTask, *, reason: str, actor: AbstractBaseUser | str | None = None) -> SystemTask:
    from core.tasks import send_templated_mail_task

    old, task.state, task.error = task.state, TaskState.FAILED, reason[:2000]
    task.token_hash = ""
    task.save(update_fields=["state", "error", "token_hash", "changed_at"])
    _audit(task, verb="task_failed", actor=actor, old=old, new=TaskState.FAILED, note=reason[:500])
    _sync_ledger(task)
    context = {"system": task.system_name, "reference": task.data_request.reference, "reason": reason[:2000]}
    to = officer_emails()
    if to:
        transaction.on_commit(
            lambda: send_templated_mail_task.delay(
                to=to, template="mail/fulfilment/system_task_failed", context=context
            )
        )
    return task


@transaction.atomic
def skip_task(*, task: SystemTask, reason: str, actor: AbstractBaseUser) -> SystemTask:
    """Staff settle a task without the system's answer, saying why (the checklist shows it as skipped)."""
    from core.permissions import require_perm

    require_perm(actor, "fulfilment.change_systemtask", _("You may not skip connected-system tasks."))
    if not reason.strip():
        raise ValidationError(_("Say why this system is skipped."))
    task = SystemTask.objects.select_for_update().get(pk=task.pk)
    if task.is_settled:
        return task
    old, task.state, task.answer_note = task.state, TaskState.SKIPPED, reason.strip()[:2000]
    task.token_hash = ""
    task.save(update_fields=["state", "answer_note", "token_hash", "changed_at"])
    _audit(task, verb="task_skipped", actor=actor, old=old, new=TaskState.SKIPPED, note=task.answer_note)
    _sync_ledger(task)
    request_id = task.data_request_id
    transaction.on_commit(lambda: _resume_request(request_id))
    return task


# --- staff: reassign, answer on the owner's behalf, add a task by hand -----------------------------------------

CHANGE_PERM = "fulfilment.change_systemtask"  # reassign, answer, skip, send again
ADD_PERM = "fulfilment.add_systemtask"  # add a task to a request by hand
HAND_ACTIONS = ("access", "erasure", "rectification", "restriction")
HAND_PREFIX = "hand-"  # the system key of a task added by hand for an owner the systems file does not name


def _require_staff(actor: AbstractBaseUser | None, perm: str, message: str) -> None:
    from django.core.exceptions import PermissionDenied

    from core.permissions import require_perm

    # A person must act here: no actor (a scheduled job) is refused too.
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied(message)
    require_perm(actor, perm, message)


def _clean_email(value: str) -> str:
    from django.core.validators import validate_email

    value = (value or "").strip()
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(_("Give the e-mail address of the person who will do it.")) from None
    return value


def reassign_task(*, task: SystemTask, owner_email: str, actor: AbstractBaseUser) -> SystemTask:
    """Give an open task to another person: they get a fresh link by mail, and the earlier link stops working."""
    _require_staff(actor, CHANGE_PERM, _("You may not reassign connected-system tasks."))
    email = _clean_email(owner_email)
    with transaction.atomic():
        task = SystemTask.objects.select_for_update().select_related("data_request").get(pk=task.pk)
        if task.is_settled:
            raise ValidationError(_("This task is already settled; there is nothing left to reassign."))
        old_email = task.owner_email
        task.owner_email, task.kind, task.state, task.error = email, Kind.MANUAL, TaskState.PENDING, ""
        task.token_hash, task.token_expires_at = "", None  # the earlier link stops working now
        task.reminded_key = ""  # the new owner gets their own reminders
        task.save(
            update_fields=["owner_email", "kind", "state", "error", "token_hash", "token_expires_at", "changed_at"]
        )
        _audit(task, verb="task_reassigned", actor=actor, old=old_email, new=email)
        return _mail_owner(task)


def answer_task_as_staff(
    *,
    task: SystemTask,
    actor: AbstractBaseUser,
    answer: str,
    files: list[UploadedFile] | None = None,
    count: int | None = None,
    reason: str = "",
) -> SystemTask:
    """Staff answer a task themselves, as its owner would: files found, "deleted n" or "no data found", or why
    it cannot be done. The owner's link stops working."""
    _require_staff(actor, CHANGE_PERM, _("You may not answer connected-system tasks."))
    task = SystemTask.objects.select_related("data_request").get(pk=task.pk)
    if task.is_settled:
        raise ValidationError(_("This task is already settled."))
    if answer == "files":
        return answer_with_files(task=task, files=files or [], actor=actor)
    if answer == "none":
        return answer_nothing_found(task=task, count=count, actor=actor)
    if answer == "cannot":
        return answer_cannot(task=task, reason=reason, actor=actor)
    raise ValidationError(_("Choose an answer."))


def add_owner_task(
    *,
    data_request: DataRequest,
    actor: AbstractBaseUser,
    action: str,
    system_key: str = "",
    owner_email: str = "",
    owner_name: str = "",
    instructions: str = "",
) -> SystemTask:
    """Add a task to a request by hand: for a declared system (a call to a web service that supports the action,
    otherwise its owner's task), or for any person by e-mail with what they are asked to do. Sent after commit."""
    _require_staff(actor, ADD_PERM, _("You may not add connected-system tasks."))
    if action not in HAND_ACTIONS:
        raise ValidationError(_("Choose what is asked."))
    instructions = (instructions or "").strip()[:4000]
    if system_key:
        system = ExternalSystem.objects.filter(key=system_key).first()
        if system is None:
            raise ValidationError(_("That system is not declared."))
        kind = Kind.HTTP if system.kind == Kind.HTTP and system.supports(action) else Kind.MANUAL
        key, name, email = system.key, system.name, (owner_email or "").strip() or system.owner_email
        email = _clean_email(email) if kind == Kind.MANUAL or owner_email else email
    else:
        email = _clean_email(owner_email)
        if not instructions:
            raise ValidationError(_("Say what the person is asked to do."))
        kind, key, name = Kind.MANUAL, f"{HAND_PREFIX}{secrets.token_hex(6)}", (owner_name or "").strip() or email
    with transaction.atomic():
        if SystemTask.objects.filter(data_request=data_request, system_key=key, action=action).exists():
            raise ValidationError(_("This request already has that task for %(system)s.") % {"system": name})
        task = SystemTask.objects.create(
            data_request=data_request,
            system_key=key,
            system_name=name[:200],
            kind=kind,
            action=action,
            owner_email=email,
            instructions=instructions,
            due_at=_due(data_request),
        )
        _audit(task, verb="task_added", actor=actor, new=TaskState.PENDING, note=f"{name}: {instructions}"[:500])
        task_id = task.pk
        transaction.on_commit(lambda: _queue_send(task_id))
    return task


def receive_callback(*, idempotency_key: str, body: bytes, signature: str) -> SystemTask | None:
    """A signed callback for a task (or a notice outside a request, then None) that answered 202. Refused (``PermissionDenied``) when the signature is
    wrong or stale, or when the task has already been answered (a replay)."""
    from django.core.exceptions import PermissionDenied

    task = SystemTask.objects.filter(idempotency_key=idempotency_key).select_related("data_request").first()
    if task is None:
        from fulfilment.models import Propagation
        from fulfilment.propagation import receive_callback as receive_notice_callback

        row = Propagation.objects.filter(idempotency_key=idempotency_key, task__isnull=True).first()
        if row is not None:
            receive_notice_callback(row=row, body=body, signature=signature)
            return None
    system = _system(task) if task is not None else None
    if task is None or system is None or system.kind != Kind.HTTP:
        raise PermissionDenied("unknown task")
    try:
        key = webhooks.signing_key(system)
    except SystemUnavailable:
        raise PermissionDenied("no signing key") from None
    if webhooks.verify(key, body, signature) is None:
        raise PermissionDenied("bad or stale signature")
    if task.is_settled:
        raise PermissionDenied("already answered")
    try:
        answer = json.loads(body)
    except ValueError:
        raise ValidationError("not JSON") from None
    if not isinstance(answer, dict) or answer.get("idempotency_key") not in (None, str(task.idempotency_key)):
        raise ValidationError("not this task's answer")
    if answer.get("status") not in ("done", None):
        return _fail(task, reason=str(answer.get("error") or answer.get("status"))[:500])
    return complete_task(task=task, result=answer, actor=task.system_name)


# --- the owner's page ------------------------------------------------------------------------------------------


def task_for_token(*, token: str) -> SystemTask | None:
    """The open task a mailed link opens; None when unknown, expired or already answered."""
    if not token or len(token) > 100:
        return None
    task = (
        SystemTask.objects.filter(token_hash=_hash(token), state=TaskState.SENT).select_related("data_request").first()
    )
    if task is None or task.token_expires_at is None or task.token_expires_at <= timezone.now():
        return None
    return task


def answer_with_files(
    *, task: SystemTask, files: list[UploadedFile], actor: AbstractBaseUser | str = "system owner"
) -> SystemTask:
    """The owner found the person's data: keep the files (CSV, JSON or PDF, size-limited) for the export."""
    if not files:
        raise ValidationError(_("Choose at least one file."))
    folder = Path(settings.PRIVATE_ROOT) / "system-tasks" / str(task.pk)
    stored = []
    for upload in files[:10]:
        suffix = Path(upload.name).suffix.lower()
        if suffix not in UPLOAD_TYPES:
            raise ValidationError(_("Only CSV, JSON or PDF files can be sent."))
        if upload.size > settings.SYSTEM_TASK_MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("A file may hold at most %(mb)s MB.") % {"mb": settings.SYSTEM_TASK_MAX_UPLOAD_BYTES // 1_000_000}
            )
        stored.append((Path(upload.name).name[:150], upload))
    folder.mkdir(parents=True, exist_ok=True)
    with transaction.atomic():
        for i, (name, upload) in enumerate(stored):
            path = folder / f"{i}-{secrets.token_hex(4)}{Path(name).suffix.lower()}"
            with path.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            SystemTaskFile.objects.create(
                task=task, name=name, path=str(path.relative_to(settings.PRIVATE_ROOT)), size_bytes=upload.size
            )
        n = len(stored)
        note = (
            ngettext("%(n)s file sent by the system's owner.", "%(n)s files sent by the system's owner.", n)
            if isinstance(actor, str)
            else ngettext(
                "%(n)s file sent by staff for the system's owner.",
                "%(n)s files sent by staff for the system's owner.",
                n,
            )
        )
        return complete_task(task=task, note=note % {"n": n}, actor=actor)


def answer_nothing_found(
    *, task: SystemTask, count: int | None = None, actor: AbstractBaseUser | str = "system owner"
) -> SystemTask:
    """The owner looked and found nothing (or, for an erasure, deleted ``count`` records)."""
    if count:
        note = _("Deleted %(n)s records.") % {"n": count}
    elif isinstance(actor, str):
        note = _("The system's owner found no data about the person.")
    else:
        note = _("No data was found about the person.")
    return complete_task(task=task, result={"deleted": count or 0}, note=note, actor=actor)


def answer_cannot(*, task: SystemTask, reason: str, actor: AbstractBaseUser | str = "system owner") -> SystemTask:
    """The owner cannot do it: staff are alerted with the reason."""
    if not reason.strip():
        raise ValidationError(_("Say why it cannot be done."))
    return _fail(task, reason=reason.strip(), actor=actor)


# --- reminders and escalation ---------------------------------------------------------------------------------


def _lock(name: str) -> None:
    from django.db import connection

    # Serialise concurrent runs on PostgreSQL (two beats, a manual run during the scheduled one).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [name])


@transaction.atomic
def remind_system_tasks(*, now: datetime | None = None) -> dict:
    """Remind owners of their open tasks before the due date (``SYSTEM_TASK_REMINDER_DAYS``; a fresh link, the
    earlier one stops working), and send the privacy officers one digest a day of the overdue tasks. Each
    reminder goes once, however often the job runs."""
    from core.tasks import send_templated_mail_task

    now = now or timezone.now()
    today = timezone.localtime(now).date()
    _lock("fulfilment.remind_system_tasks")
    offsets = sorted({int(o) for o in settings.SYSTEM_TASK_REMINDER_DAYS if int(o) >= 0})
    reminded = 0
    if offsets:
        horizon = now + timedelta(days=offsets[-1] + 1)
        due_soon = SystemTask.objects.filter(
            kind=Kind.MANUAL, state=TaskState.SENT, due_at__gte=now, due_at__lte=horizon
        ).select_related("data_request")
        for task in due_soon:
            due_day = timezone.localtime(task.due_at).date()
            reached = [o for o in offsets if (due_day - today).days <= o]
            # Every offset already reached counts as sent: a task opened late gets one reminder, not several.
            key = f"{min(reached)}d:{due_day.isoformat()}" if reached else ""
            if not key or task.reminded_key == key:
                continue
            task.reminded_key = key
            _mail_owner(task, reminder=True)
            reminded += 1
    overdue = list(
        SystemTask.objects.filter(due_at__lt=now)
        .exclude(state__in=[TaskState.DONE, TaskState.SKIPPED])
        .exclude(escalated_on=today)
        .select_related("data_request")
        .order_by("due_at")
    )
    from fulfilment.propagation import remind_overdue_propagations

    notices = remind_overdue_propagations(now=now)
    officers = officer_emails()
    if not overdue or not officers:
        return {"reminded": reminded, "escalated": 0, "notices_overdue": notices}
    items = []
    for task in overdue:
        if task.escalated_on is None:
            _audit(task, verb="task_overdue", old=task.get_state_display(), note=task.system_name)
        items.append(
            {
                "reference": task.data_request.reference,
                "system": task.system_name,
                "state": str(task.get_state_display()),
                "due": timezone.localtime(task.due_at).date().isoformat(),
                "url": settings.SITE_URL + reverse("fulfilment:staff_system_task", args=[task.pk]),
            }
        )
    SystemTask.objects.filter(pk__in=[t.pk for t in overdue]).update(escalated_on=today)
    transaction.on_commit(
        lambda: send_templated_mail_task.delay(
            to=officers, template="mail/fulfilment/system_task_overdue", context={"items": items}
        )
    )
    return {"reminded": reminded, "escalated": len(items), "notices_overdue": notices}


# --- what the request waits on ---------------------------------------------------------------------------------


def open_tasks(*, data_request: DataRequest) -> list[SystemTask]:
    return [t for t in data_request.system_tasks.all() if not t.is_settled]


def _resume_request(data_request_id: int) -> None:
    """A task was settled: build the export that waited on it, or complete the request if all is done."""
    from fulfilment.services import start_export_when_ready

    start_export_when_ready(data_request_id=data_request_id)


def export_answers(task: SystemTask) -> tuple[dict[str, list], list[SystemTaskFile]]:
    """What a settled task adds to the export: data by dataset title (HTTP), and files (a person's answer)."""
    data = task.result.get("data") if isinstance(task.result, dict) else None
    data = data if isinstance(data, dict) else {}
    return {str(k): v for k, v in data.items() if isinstance(v, list)}, list(task.files.all())


def clear_delivered_answers(*, data_request: DataRequest) -> int:
    """Delete what systems and their owners sent back for the request's access export; returns the tasks cleared.

    Their data was only ever held to be handed over: once the person's download has expired, the rows a system
    returned and the files an owner uploaded go with it. The task keeps its state, counts and dates (the proof
    that the system was searched); a later export of the same request can no longer include that data.
    """
    cleared = 0
    for task in data_request.system_tasks.filter(action="access").prefetch_related("files"):
        files = list(task.files.all())
        has_data = isinstance(task.result, dict) and "data" in task.result
        if not files and not has_data:
            continue
        for stored in files:
            (Path(settings.PRIVATE_ROOT) / stored.path).unlink(missing_ok=True)
        SystemTaskFile.objects.filter(pk__in=[f.pk for f in files]).delete()
        if has_data:
            rows = {str(k): len(v) for k, v in task.result["data"].items() if isinstance(v, list)}
            task.result = {k: v for k, v in task.result.items() if k != "data"} | {
                "rows_delivered": rows,
                "cleared_at": timezone.now().isoformat(),
            }
            task.save(update_fields=["result", "changed_at"])
        _audit(
            task,
            verb="task_answer_cleared",
            actor="purge_expired_exports",
            note=_("What %(system)s sent back for the export was deleted with the expired download.")
            % {"system": task.system_name},
        )
        cleared += 1
    return cleared


def exportable_tasks(*, data_request: DataRequest) -> list[SystemTask]:
    return list(data_request.system_tasks.filter(action="access", state=TaskState.DONE).prefetch_related("files"))


def waiting_text(tasks: list[SystemTask]) -> str:
    names = ", ".join(t.system_name for t in tasks)
    return _("Waiting on %(systems)s") % {"systems": names}
