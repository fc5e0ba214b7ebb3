"""Fulfilment services: exports, erasure, rectification, restriction and objection, legal holds.

Every change writes a line in the request's audit trail; mail and tasks are queued after commit.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from audit import services as audit_services
from consent.services import truncate_ip
from core.permissions import officer_emails, require_perm
from fulfilment import connected, erasure, external, propagation
from fulfilment.exports import build_export as _build_export
from fulfilment.exports import export_file_path
from fulfilment.exports import purge_expired_exports as _purge
from fulfilment.models import DataExport, ErasureRun, ExportDownload, SystemTask, TaskState
from registry.models import ProcessingRestriction
from registry.selectors import DEFAULT_OBJECTION_PURPOSES
from registry.sites import site
from registry.strategies import MASK_TEXT, pseudonymise
from registry.subjects import subject_for_request
from registry.texts import tr

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser
    from django.db import models

    from audit.services import Actor
    from fulfilment.models import AccountDeletion, ErasureStep
    from registry.subjects import Subject
    from requests_app.models import DataRequest

logger = logging.getLogger(__name__)

# The model permissions staff need, checked with ``require_perm`` by these services and by the staff pages.
ERASURE_PERM = "fulfilment.change_erasurerun"  # prepare, approve and resume erasures
WORK_PERM = "requests_app.change_datarequest"  # work a request: start exports, rectify the subject's data
EXPORT_KINDS = {"access", "portability"}
# Longest a completed erasure keeps the requester's own name and address for the completion mail
# (the mail task retries for under an hour; this covers a worker or SMTP outage too).
SEAL_MAX_DELAY = timedelta(hours=24)


def _record(
    data_request: DataRequest,
    *,
    actor: Actor | AbstractBaseUser | str | None,
    note: str,
    old: object = None,
    new: object = None,
    obj: models.Model | None = None,
    verb: str = "fulfilment",
) -> None:
    """One event in the audit trail, about ``obj`` (an export, a run, a restriction) or else the request itself;
    either way it belongs to the request and shows in its timeline."""
    if obj is None:
        from requests_app.services import record_event

        record_event(data_request, actor=actor or "system", kind=verb, old=old, new=new, note=note)
        return
    audit_services.record_event(
        actor=actor,
        obj=obj,
        verb=verb,
        old=None if old is None else str(old),
        new=None if new is None else str(new),
        note=note,
        request_reference=data_request.reference,
    )


def _mail(*, to: str, template: str, context: dict, language: str | None = None) -> None:
    from core.tasks import send_templated_mail_task

    transaction.on_commit(
        lambda: send_templated_mail_task.delay(to=[to], template=template, context=context, language=language)
    )


def _require_staff_perm(actor: AbstractBaseUser | None, perm: str, message: str) -> None:
    # A person must act here: no actor is refused, unlike the scheduled jobs ``require_perm`` lets through.
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied(message)
    require_perm(actor, perm, message)


def _check_release_approved(data_request: DataRequest) -> None:
    # Confirmed by the e-mail link alone: nothing is released or applied before a staff member approves it.
    if getattr(data_request, "awaits_release_approval", False):
        raise ValidationError(
            _("The request was confirmed only by e-mail: approve it on the request's page first."),
            code="awaiting_approval",
        )


# --- automatic fulfilment ------------------------------------------------------------


def start_automatic_fulfilment(*, data_request: DataRequest) -> None:
    """React to a verified request: start exports, prepare the erasure preview, apply restrictions."""
    kind = data_request.kind
    # The HTTP and manual systems first: the export waits on their answers, the erasure's completion too.
    connected.open_system_tasks(data_request=data_request)
    if kind in EXPORT_KINDS:
        start_export(data_request=data_request, actor=None)
    elif kind == "erasure":
        preview_erasure(data_request=data_request)
    elif kind in ("restriction", "objection"):
        restrict_processing(data_request=data_request, kind=kind, actor=None)
        if kind == "restriction":  # GDPR Art. 19: the recipients hear of it
            propagation.propagate(event="restriction", data_request=data_request)
    elif kind == "opt_out":  # CCPA: the third parties that receive the data stop selling or sharing it
        propagation.propagate(event="opt_out", data_request=data_request)
    elif kind == "withdraw_consent":
        propagation.propagate(event="consent_withdrawn", data_request=data_request)


# --- exports -----------------------------------------------------------------------


@transaction.atomic
def start_export(*, data_request: DataRequest, actor: AbstractBaseUser | None = None) -> DataExport:
    """Queue an export for a verified request (reuses one that is queued, running or ready)."""
    require_perm(actor, WORK_PERM, _("You may not start exports."))
    if data_request.verified_at is None:
        raise ValidationError(_("The requester's identity must be verified before an export."))
    _check_release_approved(data_request)
    existing = (
        data_request.exports.select_for_update()
        .filter(state__in=[DataExport.State.PENDING, DataExport.State.RUNNING, DataExport.State.READY])
        .first()
    )
    if existing is not None and existing.state == DataExport.State.RUNNING and _export_stopped(existing):
        # Its worker died without a word (killed, out of memory, past the hard time limit): start afresh.
        DataExport.objects.filter(pk=existing.pk).update(
            state=DataExport.State.FAILED, error="The build stopped without finishing; a new export was started."
        )
        _record(
            data_request,
            actor=None,
            obj=existing,
            verb="export_failed",
            old=existing.state,
            new=DataExport.State.FAILED,
            note=_("The export stopped without finishing; a new one was started."),
        )
        existing = None
    elif existing is not None and _export_stopped(existing):  # ready, but its link has expired
        _withdraw_export(existing, actor=None, note=_("The download link expired; a new export was started."))
        existing = None
    if existing is not None:
        return existing
    export = DataExport.objects.create(data_request=data_request)
    _record(
        data_request,
        actor=actor,
        obj=export,
        verb="export_started",
        note=_("Export of your data started."),
        new=export.state,
    )
    export_id = str(export.pk)
    transaction.on_commit(lambda: _queue_build(export_id))
    return export


@transaction.atomic
def rebuild_export(*, export: DataExport, actor: AbstractBaseUser | None = None) -> DataExport:
    """Build a request's export again from the data held now, from the export's admin page.

    A ready copy is withdrawn first (its file deleted, its download link no longer works); the new build is
    queued after commit and mails the requester when it is ready, as the first one did.
    """
    require_perm(actor, WORK_PERM, _("You may not start exports."))
    export = DataExport.objects.select_for_update().select_related("data_request").get(pk=export.pk)
    data_request = export.data_request
    if not data_request.is_open:
        raise ValidationError(_("The request is closed: its export is not built again."), code="closed")
    if export.state in (DataExport.State.PENDING, DataExport.State.RUNNING) and not _export_stopped(export):
        raise ValidationError(_("This export is being built; follow its progress on its page."), code="building")
    if export.state == DataExport.State.READY:
        _withdraw_export(
            export, actor=actor, note=_("A new export was started; the earlier download link no longer works.")
        )
    return start_export(data_request=data_request, actor=actor)


def _withdraw_export(export: DataExport, *, actor: AbstractBaseUser | None, note: str) -> None:
    """Delete an export's file and mark it expired, so its download link stops working; its trail says why."""
    path = export_file_path(export)
    if path is not None:
        path.unlink(missing_ok=True)
    DataExport.objects.filter(pk=export.pk).update(state=DataExport.State.EXPIRED, file_path="")
    _record(
        export.data_request,
        actor=actor,
        obj=export,
        verb="export_expired",
        old=export.state,
        new=DataExport.State.EXPIRED,
        note=note,
    )


def _export_stopped(export: DataExport, *, now: datetime | None = None) -> bool:
    """A running export past the task's hard time limit (its worker is gone), or a ready one whose link expired."""
    from fulfilment.tasks import build_export_task

    now = now or timezone.now()
    if export.state == DataExport.State.RUNNING:
        limit = timedelta(seconds=build_export_task.time_limit or settings.CELERY_TASK_TIME_LIMIT)
        return export.started_at is None or export.started_at < now - limit
    if export.state == DataExport.State.READY:
        return export.expires_at is not None and export.expires_at <= now
    return False


def _queue_build(export_id: str) -> None:
    from fulfilment.tasks import build_export_task

    build_export_task.delay(export_id)


def build_export(*, export: DataExport) -> DataExport:
    """Build the export ZIP (see fulfilment.exports); a failure is recorded and the privacy team told.

    While a connected system's task is open (an owner has not answered, a callback has not come), the export
    waits and says on what; settling the last task builds it."""
    waiting_on = connected.open_tasks(data_request=export.data_request)
    if waiting_on:
        export_waiting(export=export, text=connected.waiting_text(waiting_on))
        export.refresh_from_db()
        return export
    try:
        return _build_export(export=export)
    except external.SystemUnavailable as exc:
        text = _("Waiting on %(system)s: %(reason)s") % {"system": exc.system_name, "reason": exc.reason}
        export_waiting(export=export, text=text, was_running=True)
        raise
    except Exception as exc:
        export_failed(export=export, error=str(exc))
        raise


@transaction.atomic
def export_waiting(*, export: DataExport, text: str, was_running: bool = False) -> None:
    """The export waits on a connected system (one that did not answer, or a task not yet settled), and says on
    what in its error and, once per wait rather than per retry, in the trail."""
    previous = DataExport.objects.filter(pk=export.pk).values_list("error", flat=True).first()
    DataExport.objects.filter(pk=export.pk).update(state=DataExport.State.PENDING, error=text)
    if previous != text:
        _record(
            export.data_request,
            actor=None,
            obj=export,
            verb="export_waiting",
            old=DataExport.State.RUNNING if was_running else None,
            new=DataExport.State.PENDING if was_running else None,
            note=text,
        )


@transaction.atomic
def export_failed(*, export: DataExport, error: str) -> None:
    """Record a failed export in the request's trail and ask the privacy team to start it again."""
    from django.conf import settings
    from django.urls import reverse

    from core.selectors import get_organisation
    from core.tasks import send_templated_mail_task

    data_request = export.data_request
    _record(
        data_request,
        actor=None,
        obj=export,
        verb="export_failed",
        new=DataExport.State.FAILED,
        note=_("Preparing the export failed: %(error)s") % {"error": error[:500]},
    )
    to = officer_emails() or [get_organisation().contact_email]
    context = {
        "reference": data_request.reference,
        "error": error[:500],
        "restart_url": settings.SITE_URL + reverse("fulfilment:start_export", args=[data_request.pk]),
    }
    transaction.on_commit(
        lambda: send_templated_mail_task.delay(to=to, template="mail/registry/export_failed", context=context)
    )


def resend_system_task(*, task: SystemTask, actor: AbstractBaseUser) -> None:
    """Staff send a connected-system task again (a new call, or a new link for the owner)."""
    _require_staff_perm(actor, "fulfilment.change_systemtask", _("You may not resend connected-system tasks."))
    SystemTask.objects.filter(pk=task.pk).update(state=TaskState.PENDING)
    audit_services.record_event(
        actor=actor, obj=task, verb="task_resent", request_reference=task.data_request.reference
    )
    task_id = task.pk
    transaction.on_commit(lambda: connected._queue_send(task_id))


def start_export_when_ready(*, data_request_id: int) -> None:
    """A connected system's task was settled: build the export that waited on it, or complete the request."""
    from requests_app.models import OPEN_STATUSES, DataRequest

    data_request = DataRequest.objects.filter(pk=data_request_id, status__in=OPEN_STATUSES).first()
    if data_request is None or connected.open_tasks(data_request=data_request):
        return
    waiting = data_request.exports.filter(state=DataExport.State.PENDING).order_by("-created_at").first()
    if waiting is not None:
        _queue_build(str(waiting.pk))
        return
    ready = data_request.exports.filter(state=DataExport.State.READY).order_by("-created_at").first()
    if ready is not None and data_request.kind in EXPORT_KINDS:
        # A search answered after this export was built (a task staff added by hand, or one sent again): the
        # requester gets a new export with that system's data, not a completion with the old one.
        built_from = ready.started_at or ready.created_at
        late = data_request.system_tasks.filter(action="access", state=TaskState.DONE, changed_at__gt=built_from)
        if late.exists():
            rebuild_export(export=ready, actor=None)
            return
    _complete_when_settled(data_request)


@transaction.atomic
def _complete_when_settled(data_request: DataRequest) -> None:
    """A request that fanned out to connected systems completes once its export is ready (or its erasure
    done) and every system's task is done or skipped."""
    from requests_app.models import OPEN_STATUSES
    from requests_app.services import complete_request

    if not data_request.system_tasks.exists() or connected.open_tasks(data_request=data_request):
        return
    if data_request.status not in OPEN_STATUSES or data_request.verified_at is None:
        return
    if data_request.kind in EXPORT_KINDS:
        if not data_request.exports.filter(state=DataExport.State.READY).exists():
            return
        summary = _("Your data export is ready, with the answers of every system we searched: %(systems)s.") % {
            "systems": ", ".join(t.system_name for t in data_request.system_tasks.all())
        }
    elif data_request.kind == "erasure":
        run = ErasureRun.objects.filter(data_request=data_request, state=ErasureRun.State.COMPLETED).first()
        if run is None:
            return
        # The last system has answered: the report gets every system's counts before the requester reads it.
        run.report = report_with_system_tasks(run.report or {}, data_request=data_request)
        run.save(update_fields=["report"])
        with translation.override(getattr(data_request, "language", "") or settings.LANGUAGE_CODE):
            summary = erasure_summary(run.report)
        report_file = json.dumps(erasure.public_report(run.report), indent=2).encode()
        complete_request(
            data_request=data_request, actor=None, summary=summary, files=[("erasure-report.json", report_file)]
        )
        return
    else:
        return
    complete_request(data_request=data_request, actor=None, summary=summary)


@transaction.atomic
def export_ready(*, export: DataExport) -> None:
    """Record that the export is ready and tell the requester where to download it."""
    from requests_app.services import status_url

    data_request = export.data_request
    _record(
        data_request,
        actor=None,
        obj=export,
        verb="export_ready",
        old=DataExport.State.RUNNING,
        new=DataExport.State.READY,
        note=_("Your data export is ready to download."),
    )
    _mail(
        to=data_request.requester_email,
        template="mail/registry/export_ready",
        context={
            "reference": data_request.reference,
            "name": data_request.requester_name,
            "status_url": status_url(data_request),
            "expires_at": export.expires_at.isoformat() if export.expires_at else "",
            "days": (export.expires_at - timezone.now()).days + 1 if export.expires_at else 0,
        },
        language=getattr(data_request, "language", None),
    )
    _complete_when_settled(data_request)


def can_download(
    *, export: DataExport, user: AbstractBaseUser | AnonymousUser | None = None, status_token: str = ""
) -> str:
    """How the caller may download ("session" or "status-link"), or "" if refused."""
    if export.state != DataExport.State.READY or export.expires_at is None or export.expires_at <= timezone.now():
        return ""
    from requests_app.selectors import requester_access

    data_request = export.data_request
    signed_in = user is not None and user.is_authenticated
    if signed_in and data_request.user_id and data_request.user_id != user.pk:
        return ""  # the data of one account is never handed to another, even with a link
    return requester_access(data_request=data_request, user=user, status_token=status_token)


@transaction.atomic
def record_download(
    *, export: DataExport, user: AbstractBaseUser | AnonymousUser | None = None, via: str, ip: str = ""
) -> ExportDownload:
    """Audit one served download; keeps the network part of the address only, as the consent log does."""
    row = ExportDownload.objects.create(
        export=export,
        user=user if user is not None and user.is_authenticated else None,
        via=via,
        ip=truncate_ip(ip) or "",
    )
    DataExport.objects.filter(pk=export.pk).update(download_count=export.download_count + 1)
    # A role label, not the username: the trail outlives the account (the download row keeps who it was).
    _record(
        export.data_request,
        actor="requester",
        obj=export,
        verb="export_downloaded",
        note=_("Export downloaded."),
        new=via,
    )
    return row


def purge_expired_exports(*, now: datetime | None = None) -> int:
    """Delete export files whose download link has expired."""
    return _purge(now=now)


# --- erasure -----------------------------------------------------------------------


@transaction.atomic
def preview_erasure(*, data_request: DataRequest) -> ErasureRun:
    """Dry run: per dataset, rows to delete, fields to null/mask/pseudonymise, and what is kept and why."""
    if data_request.kind != "erasure":
        raise ValidationError(_("Only erasure requests can be erased."))
    if data_request.verified_at is None:
        raise ValidationError(_("The requester's identity must be verified before an erasure."))
    existing = ErasureRun.objects.filter(data_request=data_request).exclude(state=ErasureRun.State.PREVIEWED).first()
    if existing is not None:
        return existing
    _check_request_open(data_request)
    run = erasure.preview(data_request=data_request, subject=subject_for_request(data_request))
    _record(
        data_request,
        actor=None,
        obj=run,
        verb="erasure_previewed",
        new=run.state,
        note=_("Erasure preview prepared; awaiting a privacy officer's approval."),
    )
    return run


@transaction.atomic
def approve_erasure(
    *,
    data_request: DataRequest,
    actor: AbstractBaseUser | None = None,
    self_service: bool = False,
    policy: str = "",
    queue: bool = True,
    now: datetime | None = None,
) -> ErasureRun:
    """Approve the previewed erasure (a privacy officer, the account holder, or an inactive-account policy).

    ``self_service=True`` is the account holder deleting their own account: the request must be an
    erasure opened from that account, for that account. ``policy`` names the retention policy that
    decided the erasure of an inactive account (no ``actor``): only for the request retention opened
    when that account's warning period ended; the policy is recorded as the approver. Nobody approves
    while a self-service deletion's grace period runs (the holder may still cancel); retention's job
    approves it when the period ends. ``now`` is the calling job's clock. Execution is queued after
    commit unless ``queue=False`` (the caller runs ``execute_erasure`` itself).
    """
    now = now or timezone.now()
    if policy:
        if self_service or actor is not None:
            raise ValueError("A policy approves on its own: no actor, not self-service.")
        _check_policy_erasure(data_request=data_request, policy=policy, now=now)
    elif self_service:
        _check_self_service_erasure(data_request=data_request, actor=actor)
    else:
        _require_staff_perm(actor, ERASURE_PERM, _("Only a privacy officer can approve an erasure."))
    run = ErasureRun.objects.select_for_update().filter(data_request=data_request).first()
    if run is None:
        raise ValidationError(_("Prepare the erasure preview first."))
    if run.state != ErasureRun.State.PREVIEWED:
        raise ValidationError(_("This erasure has already been approved."))
    _check_request_open(data_request)
    _check_no_grace_period(data_request=data_request, run=run, now=now)
    run.state = ErasureRun.State.APPROVED
    run.approved_by = actor
    run.approved_at = timezone.now()
    run.save(update_fields=["state", "approved_by", "approved_at"])
    if policy:
        _record(
            data_request,
            actor=f"retention policy {policy}",
            obj=run,
            verb="erasure_approved",
            note=_(
                "Erasure approved by the inactive-account retention policy “%(policy)s”: the account holder "
                "was warned and did not log in before the end of the grace period."
            )
            % {"policy": policy},
            old="previewed",
            new="approved (retention policy)",
        )
    elif self_service:
        # A label, not the user: the audit row must not keep the username of an account being erased.
        _record(
            data_request,
            actor="account holder",
            obj=run,
            verb="erasure_approved",
            note=_("Erasure approved by the account holder: self-service deletion of their own account."),
            old="previewed",
            new="approved (self-service)",
        )
    else:
        _record(
            data_request,
            actor=actor,
            obj=run,
            verb="erasure_approved",
            note=_("Erasure approved."),
            old="previewed",
            new="approved",
        )
    if queue:
        run_id = run.pk
        transaction.on_commit(lambda: _queue_erasure(run_id))
    return run


def _check_request_open(data_request: DataRequest) -> None:
    from requests_app.models import OPEN_STATUSES

    data_request.refresh_from_db(fields=["status"])
    if data_request.status not in OPEN_STATUSES:
        raise ValidationError(
            _("This request is %(status)s: nothing is erased for it.") % {"status": data_request.get_status_display()}
        )


def pending_self_service_deletion(
    *, data_request: DataRequest, run: ErasureRun | None, now: datetime | None = None
) -> AccountDeletion | None:
    """The account holder's own deletion still in its grace period for this request's account, or None."""
    if not apps.is_installed("retention"):
        return None
    from fulfilment.selectors import deletion_in_grace_period

    user_ids = (data_request.user_id, run.subject_user_id if run else None)
    return deletion_in_grace_period(data_request_id=data_request.pk, user_ids=user_ids, now=now or timezone.now())


def _check_no_grace_period(*, data_request: DataRequest, run: ErasureRun, now: datetime) -> None:
    """Refuse while the account holder can still cancel their own account's deletion."""
    deletion = pending_self_service_deletion(data_request=data_request, run=run, now=now)
    if deletion is not None:
        raise ValidationError(
            _(
                "The account holder asked for this account's deletion with a grace period that ends on %(date)s; "
                "until then they can cancel it. The deletion then runs by itself: nothing to approve."
            )
            % {"date": formats.date_format(timezone.localtime(deletion.execute_after), "j F Y H:i")},
            code="grace_period",
        )


def _check_policy_erasure(*, data_request: DataRequest, policy: str, now: datetime) -> None:
    """A policy approves only the erasure retention opened for an inactive account whose warning ran out."""
    if data_request.kind != "erasure":
        raise ValidationError(_("Only erasure requests can be erased."))
    notice = None
    if apps.is_installed("retention"):
        from fulfilment.selectors import inactive_account_erasure_notice

        notice = inactive_account_erasure_notice(
            data_request_id=data_request.pk, user_id=data_request.user_id, policy=policy, now=now
        )
    if notice is None:
        raise PermissionDenied(
            _(
                "A retention policy can only approve the erasure opened for an inactive account "
                "once its warning period has ended."
            )
        )


def _check_self_service_erasure(*, data_request: DataRequest, actor: AbstractBaseUser | None) -> None:
    from requests_app.models import Channel

    if actor is None or not getattr(actor, "pk", None):
        raise PermissionDenied(_("Only the account holder can approve the deletion of their own account."))
    if data_request.kind != "erasure":
        raise ValidationError(_("Only erasure requests can be erased."))
    # The account itself, asked from its own account page. The e-mail is not compared: the holder may
    # change it during the grace period, and the subject covers the old and the new address alike.
    own = data_request.user_id == actor.pk and data_request.channel == Channel.ACCOUNT
    if not own:
        raise PermissionDenied(_("Only the account holder can approve the deletion of their own account."))


@transaction.atomic
def resume_erasure(*, data_request: DataRequest, actor: AbstractBaseUser | None) -> ErasureRun:
    """Queue a failed or interrupted erasure again; it continues from its last checkpoint."""
    _require_staff_perm(actor, ERASURE_PERM, _("Only a privacy officer can resume an erasure."))
    run = ErasureRun.objects.select_for_update().get(data_request=data_request)
    if run.state not in (ErasureRun.State.FAILED, ErasureRun.State.RUNNING, ErasureRun.State.APPROVED):
        raise ValidationError(_("Only an approved, running or failed erasure can be resumed."))
    _record(
        data_request,
        actor=actor,
        obj=run,
        verb="erasure_resumed",
        note=_("Erasure resumed from its last checkpoint."),
        old=run.state,
        new=ErasureRun.State.RUNNING,
    )
    run_id = run.pk
    transaction.on_commit(lambda: _queue_erasure(run_id))
    return run


def _queue_erasure(run_id: int) -> None:
    from fulfilment.tasks import execute_erasure_task

    execute_erasure_task.delay(run_id)


def execute_erasure(*, data_request: DataRequest, on_step: Callable[[ErasureStep], None] | None = None) -> ErasureRun:
    """Run (or resume) an approved erasure step by step; finishing attaches the report and tells the requester."""
    run = ErasureRun.objects.get(data_request=data_request)
    if run.state == ErasureRun.State.COMPLETED:
        return run
    if run.state == ErasureRun.State.PREVIEWED:
        raise ValidationError(_("A privacy officer must approve this erasure first."))
    with transaction.atomic():
        ErasureRun.objects.filter(pk=run.pk).update(
            state=ErasureRun.State.RUNNING, attempts=run.attempts + 1, started_at=run.started_at or timezone.now()
        )
        if run.state != ErasureRun.State.RUNNING:
            _record(
                data_request,
                actor=None,
                obj=run,
                verb="erasure_started",
                old=run.state,
                new=ErasureRun.State.RUNNING,
                note=_("The erasure started."),
            )
    _remove_subject_exports(run)
    try:
        erasure.run_steps(run, on_step=on_step)
    except external.SystemUnavailable as exc:
        erasure_waiting(run=run, waiting=exc)
        raise
    except Exception as exc:
        with transaction.atomic():
            ErasureRun.objects.filter(pk=run.pk).update(state=ErasureRun.State.FAILED, error=str(exc)[:2000])
            _record(
                data_request,
                actor=None,
                obj=run,
                verb="erasure_failed",
                old=ErasureRun.State.RUNNING,
                new=ErasureRun.State.FAILED,
                note=_("The erasure stopped: %(error)s. It resumes from its last finished step.")
                % {"error": str(exc)[:500]},
            )
        raise
    return _finish_erasure(run)


@transaction.atomic
def erasure_waiting(*, run: ErasureRun, waiting: external.SystemUnavailable) -> None:
    """A connected system did not answer: the erasure waits at its checkpoint (queued again with backoff), and
    the request says on what. It never completes without that system."""
    text = _("Waiting on %(system)s: %(reason)s") % {"system": waiting.system_name, "reason": waiting.reason}
    previous = ErasureRun.objects.filter(pk=run.pk).values_list("error", flat=True).first()
    # Back to approved: the watchdog resumes only running runs, and this one waits on purpose.
    ErasureRun.objects.filter(pk=run.pk).update(state=ErasureRun.State.APPROVED, error=text)
    if previous != text:
        _record(
            run.data_request,
            actor=None,
            obj=run,
            verb="erasure_waiting",
            old=ErasureRun.State.RUNNING,
            new=ErasureRun.State.APPROVED,
            note=text,
        )


def _remove_subject_exports(run: ErasureRun) -> None:
    """Earlier exports hold the same data: delete their files and the downloaders' IP addresses."""
    from django.db.models import Q

    q = Q(data_request__requester_email__in=run.subject_emails)
    if run.subject_user_id:
        q |= Q(data_request__user_id=run.subject_user_id)
    for export in DataExport.objects.filter(q).exclude(state=DataExport.State.EXPIRED):
        _withdraw_export(export, actor=None, note=_("The file was deleted: the subject's data is being erased."))
    ExportDownload.objects.filter(export__in=DataExport.objects.filter(q)).update(ip="")


@transaction.atomic
def _finish_erasure(run: ErasureRun) -> ErasureRun:
    from requests_app.models import RequestStatus
    from requests_app.services import complete_request

    run = ErasureRun.objects.select_for_update().get(pk=run.pk)
    if run.state == ErasureRun.State.COMPLETED:
        return run  # a run resumed by the watchdog overlapped a slow worker, which finished it first
    data_request = run.data_request
    report = report_with_system_tasks(erasure.build_report(run), data_request=data_request)
    run.report = report
    run.state = ErasureRun.State.COMPLETED
    run.finished_at = timezone.now()
    run.error = ""
    run.save(update_fields=["report", "state", "finished_at", "error"])
    with translation.override(settings.LANGUAGE_CODE):
        _record(
            data_request,
            actor=None,
            obj=run,
            verb="erasure_completed",
            note=erasure_summary(report)[:2000],
            old=ErasureRun.State.RUNNING,
            new=ErasureRun.State.COMPLETED,
        )
    with translation.override(getattr(data_request, "language", "") or settings.LANGUAGE_CODE):
        summary = erasure_summary(report)  # the requester reads it, in their language
    # The requester's copy: the staff's reasons for legal holds stay in the run's report, for staff.
    files = [("erasure-report.json", json.dumps(erasure.public_report(report), indent=2).encode())]
    run_id = run.pk
    # GDPR Art. 19: the systems asked to erase are the recipients told; the ledger keeps each one with its due date.
    propagation.propagate(event="erasure", data_request=data_request)
    if connected.open_tasks(data_request=data_request):
        # The systems only a person or a callback can reach have not all answered: the request completes when
        # the last one does (start_export_when_ready); the run's own data is erased and sealed meanwhile.
        transaction.on_commit(lambda: _queue_seal(run_id, countdown=int(SEAL_MAX_DELAY.total_seconds())))
        return run
    if data_request.status in (RequestStatus.VERIFIED, RequestStatus.IN_PROGRESS, RequestStatus.AWAITING_REQUESTER):
        # The completion mail reads the requester's address when it is sent, possibly after SMTP retries:
        # seal when the mail task reports (see receivers), or at the latest after SEAL_MAX_DELAY.
        complete_request(data_request=data_request, actor=None, summary=summary, files=files)
        transaction.on_commit(lambda: _queue_seal(run_id, countdown=int(SEAL_MAX_DELAY.total_seconds())))
    else:
        from requests_app.services import add_result_file

        add_result_file(data_request=data_request, name="erasure-report.json", path_or_file=files[0][1])
        transaction.on_commit(lambda: _queue_seal(run_id))
    return run


def _queue_seal(run_id: int, *, countdown: int = 0) -> None:
    from fulfilment.tasks import seal_erasure_task

    if countdown:
        seal_erasure_task.apply_async((run_id,), countdown=countdown)
    else:
        seal_erasure_task.delay(run_id)


@transaction.atomic
def seal_erasure(*, run: ErasureRun) -> bool:
    """Pseudonymise the completed erasure request itself and the run's identifiers (once; True if it did)."""
    from requests_app.models import DataRequest

    run = ErasureRun.objects.select_for_update().select_related("data_request").get(pk=run.pk)
    if run.state != ErasureRun.State.COMPLETED or run.sealed_at is not None:
        return False
    data_request = run.data_request
    # The requester's own words may name them too; the kind and the report keep what was asked and done.
    DataRequest.objects.filter(pk=data_request.pk).update(
        requester_email=pseudonymise(data_request.requester_email.lower()) + "@erased.invalid",
        requester_name=pseudonymise(data_request.requester_name),
        details=MASK_TEXT if data_request.details else "",
    )
    run.subject_emails = [pseudonymise(e) for e in run.subject_emails]
    run.sealed_at = timezone.now()
    run.save(update_fields=["subject_emails", "sealed_at"])
    return True


def seal_after_completion_mail(*, data_request_id: int) -> bool:
    """The request's completion mail was sent (or finally failed): seal its erasure run if it has one."""
    run = ErasureRun.objects.filter(
        data_request_id=data_request_id, state=ErasureRun.State.COMPLETED, sealed_at__isnull=True
    ).first()
    return seal_erasure(run=run) if run is not None else False


def _count(value: object) -> int:
    # A system's own figure: a non-negative whole number, or nothing.
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def report_with_system_tasks(report: dict, *, data_request: DataRequest) -> dict:
    """The erasure report with each HTTP or manual system's answer: deleted and masked counts (as the system
    reported them, or as its owner confirmed), added to the totals of the portal's own datasets and SQL systems."""
    totals: dict[str, int] = {}
    for entry in report.get("datasets", []):
        for key, n in (entry.get("counts") or {}).items():
            totals[key] = totals.get(key, 0) + _count(n)
    systems = []
    for task in data_request.system_tasks.filter(action="erasure").order_by("system_name"):
        result = task.result if isinstance(task.result, dict) else {}
        deleted, masked = _count(result.get("deleted")), _count(result.get("masked"))
        systems.append(
            {
                "system": task.system_name,
                "state": task.state,
                "deleted": deleted,
                "masked": masked,
                # Answered on the owner's page (or by staff for them), not by the system itself.
                "confirmed_by_person": task.kind != "http" and task.state == TaskState.DONE,
            }
        )
        if task.state == TaskState.DONE:
            totals["delete"] = totals.get("delete", 0) + deleted
            totals["mask"] = totals.get("mask", 0) + masked
    return {
        **report,
        "totals": {k: v for k, v in totals.items() if v or k in report.get("totals", {})},
        "systems": systems,
    }


def erasure_summary(report: dict) -> str:
    """A plain-language summary of an erasure report for the requester."""
    totals = report.get("totals", {})
    lines = [_("We erased your personal data.")]
    if totals.get("delete"):
        lines.append(_("Records deleted: %(n)s.") % {"n": totals["delete"]})
    changed = sum(totals.get(k, 0) for k in ("null", "mask", "pseudonymise", "cleared"))
    if changed:
        lines.append(_("Records anonymised or pseudonymised: %(n)s.") % {"n": changed})
    systems = report.get("systems") or []
    if systems:
        lines.append(_("Other systems we asked:"))
        for item in systems:
            if item["state"] == TaskState.DONE and (item["deleted"] or item["masked"]):
                outcome = _("%(deleted)s deleted, %(masked)s anonymised") % item
            elif item["state"] == TaskState.DONE:
                outcome = _("no data found")
            elif item["state"] == TaskState.SKIPPED:
                outcome = _("not searched")
            else:
                outcome = _("not answered yet")
            lines.append(f"- {item['system']}: {outcome}")
    kept = kept_for_requester(report)
    if kept:
        lines.append(_("Kept, and why:"))
        lines += [f"- {item['title']}: {item['reason']}" for item in kept]
    return "\n".join(lines)


def kept_for_requester(report: dict) -> list[dict]:
    """What an erasure kept and why, in the active language, as the requester may read it.

    Items kept under a legal hold say so in fixed words: the hold's own reason is written by staff for staff
    and may name an investigation or other people.
    """
    out, seen = [], set()
    for item in report.get("kept", []):
        entry = {"title": tr(item["title"]), "reason": tr(erasure.public_reason(item))}
        key = (entry["title"], entry["reason"])
        if key not in seen:
            seen.add(key)
            out.append(entry)
    return out


# --- rectification -----------------------------------------------------------------


def rectifiable_rows(*, data_request: DataRequest) -> list[dict]:
    """The subject's rows in rectifiable datasets, with their registered text fields."""
    subject = subject_for_request(data_request)
    out = []
    for ds in site.datasets():
        names = ds.rectifiable_fields()
        if not names:
            continue
        multiline = [n for n in names if ds.model._meta.get_field(n).get_internal_type() == "TextField"]
        for obj in ds.queryset_for(user_ids=subject.user_ids, emails=subject.emails)[:20]:
            out.append(
                {
                    "dataset": ds.label,
                    "title": ds.title,
                    "pk": obj.pk,
                    "fields": {n: getattr(obj, n) for n in names},
                    "multiline": multiline,
                }
            )
    return out + external.rectifiable_rows(subject)


def rectification_refusal(*, data_request: DataRequest) -> str:
    """Why data cannot be rectified through this request, or "" when it can.

    Only an open, verified rectification request speaks for a correction: an access request asked for
    something else, and a closed request has been answered.
    """
    from requests_app.models import OPEN_STATUSES

    if data_request.kind != "rectification":
        return _("Data can only be rectified through a rectification request; this is a request of another type.")
    if data_request.status not in OPEN_STATUSES:
        return _("This request is %(status)s: data can no longer be rectified through it.") % {
            "status": data_request.get_status_display()
        }
    if data_request.verified_at is None:
        return _("The requester's identity must be verified before their data is changed.")
    return ""


@transaction.atomic
def rectify_field(
    *, data_request: DataRequest, actor: AbstractBaseUser | None, dataset: str, pk: int | str, field: str, value: str
) -> models.Model | None:
    """Correct one registered field of one of the subject's rows (in the portal or a connected system); record
    the diff and tell the requester."""
    _require_staff_perm(actor, WORK_PERM, _("Only staff working on requests can rectify data."))
    data_request = data_request.__class__.objects.select_for_update().get(pk=data_request.pk)
    refusal = rectification_refusal(data_request=data_request)
    if refusal:
        raise ValidationError(refusal, code="not_rectifiable")
    subject = subject_for_request(data_request)
    if dataset.startswith(external.STEP_PREFIX):
        return _rectify_external(
            data_request, actor=actor, subject=subject, dataset=dataset, pk=pk, field=field, value=value
        )
    ds = site.get(dataset) if site.is_registered(dataset) else None
    if ds is None or field not in ds.rectifiable_fields():
        raise ValidationError(_("This field cannot be rectified here."))
    try:
        obj = ds.queryset_for(user_ids=subject.user_ids, emails=subject.emails).select_for_update().get(pk=pk)
    except (ds.model.DoesNotExist, ValueError, TypeError, ValidationError):
        # Not one of this subject's rows (or not a valid key): refused the same way.
        raise ValidationError(_("This record does not belong to the requester.")) from None
    old = getattr(obj, field)
    if (old or "") == value:
        return obj
    setattr(obj, field, value)
    obj.full_clean(validate_unique=True, exclude=[f.name for f in obj._meta.fields if f.name != field])
    obj.save(update_fields=[field])
    _record(
        data_request,
        actor=actor,
        note=_("Rectified %(field)s of %(title)s") % {"field": field, "title": ds.title},
        old=old,
        new=value,
    )
    language = getattr(data_request, "language", "") or settings.LANGUAGE_CODE
    with translation.override(language):
        title = tr(ds.title)
    _mail(
        to=data_request.requester_email,
        template="mail/registry/rectified",
        context={
            "reference": data_request.reference,
            "name": data_request.requester_name,
            "dataset": title,
            "field": field,
        },
        language=language,
    )
    return obj


def _rectify_external(
    data_request: DataRequest,
    *,
    actor: AbstractBaseUser | None,
    subject: Subject,
    dataset: str,
    pk: int | str,
    field: str,
    value: str,
) -> None:
    try:
        old, title = external.rectify(subject, dataset=dataset, pk=pk, field=field, value=value)
    except ValueError:
        # Not one of this subject's rows, or not a rectifiable field: refused the same way as in-process.
        raise ValidationError(
            _("This record does not belong to the requester, or the field cannot be rectified.")
        ) from None
    if old == value:
        return None
    _record(
        data_request,
        actor=actor,
        note=_("Rectified %(field)s of %(title)s") % {"field": field, "title": title},
        old=old,
        new=value,
    )
    _mail(
        to=data_request.requester_email,
        template="mail/registry/rectified",
        context={
            "reference": data_request.reference,
            "name": data_request.requester_name,
            "dataset": title,
            "field": field,
        },
        language=getattr(data_request, "language", "") or settings.LANGUAGE_CODE,
    )
    return None


# --- restriction and objection ---------------------------------------------------------


@transaction.atomic
def restrict_processing(
    *,
    data_request: DataRequest = None,
    user: AbstractBaseUser | None = None,
    email: str = "",
    kind: str,
    purposes: list[str] | None = None,
    reason: str = "",
    actor: AbstractBaseUser | None = None,
) -> ProcessingRestriction:
    """Mark a subject as restricted (Art. 18) or objecting to purposes (Art. 21)."""
    if kind not in ProcessingRestriction.Kind.values:
        raise ValidationError(_("Unknown kind of restriction."))
    if data_request is not None:
        _check_release_approved(data_request)
        user = user or data_request.user
        email = email or data_request.requester_email
        reason = reason or data_request.details
    if user is None and not email:
        raise ValidationError(_("A restriction needs a subject."))
    if kind == ProcessingRestriction.Kind.OBJECTION and not purposes:
        purposes = list(DEFAULT_OBJECTION_PURPOSES)
    restriction = ProcessingRestriction.objects.create(
        user=user,
        email=email or (user.email if user else ""),
        kind=kind,
        purposes=list(purposes or []),
        reason=reason[:2000],
        request_reference=data_request.reference if data_request is not None else "",
    )
    if data_request is not None:
        _record(
            data_request,
            actor=actor,
            obj=restriction,
            verb="restriction_applied",
            note=_("Processing marked as %(kind)s.") % {"kind": restriction.get_kind_display()},
            new=kind,
        )
    else:
        audit_services.record_event(actor=actor, obj=restriction, verb="restriction_applied", new=kind)
    return restriction


@transaction.atomic
def notify_restriction_lift(
    *, restriction: ProcessingRestriction, actor: AbstractBaseUser | None
) -> ProcessingRestriction:
    """Tell the subject that a restriction will be lifted (required before lifting it, Art. 18(3))."""
    require_perm(actor, "registry.change_processingrestriction", _("You may not lift restrictions."))
    if restriction.lifted_at:
        raise ValidationError(_("This restriction is already lifted."))
    restriction.lift_notified_at = timezone.now()
    restriction.save(update_fields=["lift_notified_at"])
    _record_on_restriction_request(
        restriction,
        actor=actor,
        verb="restriction_lift_announced",
        note=_("The requester was told the restriction will be lifted."),
        new="notified",
    )
    _mail(
        to=restriction.email,
        template="mail/registry/restriction_lift",
        context={"reference": restriction.request_reference, "kind": str(restriction.get_kind_display())},
    )
    return restriction


@transaction.atomic
def lift_restriction(*, restriction: ProcessingRestriction, actor: AbstractBaseUser | None) -> ProcessingRestriction:
    """Lift a restriction; a restriction (Art. 18) can be lifted only after the subject was told."""
    require_perm(actor, "registry.change_processingrestriction", _("You may not lift restrictions."))
    if restriction.kind == ProcessingRestriction.Kind.RESTRICTION and restriction.lift_notified_at is None:
        raise ValidationError(_("Tell the requester before lifting the restriction."))
    restriction.lifted_at = timezone.now()
    restriction.save(update_fields=["lifted_at"])
    _record_on_restriction_request(
        restriction,
        actor=actor,
        verb="restriction_lifted",
        note=_("%(kind)s lifted.") % {"kind": restriction.get_kind_display()},
        old=restriction.kind,
        new="lifted",
    )
    return restriction


def _record_on_restriction_request(
    restriction: ProcessingRestriction,
    *,
    actor: Actor | AbstractBaseUser | str | None,
    verb: str,
    note: str,
    old: object = None,
    new: object = None,
) -> None:
    """A restriction's changes go in its own trail, and in its request's when it was made from one."""
    from requests_app.models import DataRequest

    data_request = None
    if restriction.request_reference:
        data_request = DataRequest.objects.filter(reference=restriction.request_reference).first()
    if data_request is not None:
        _record(data_request, actor=actor, obj=restriction, verb=verb, note=note, old=old, new=new)
    else:
        audit_services.record_event(actor=actor, obj=restriction, verb=verb, note=note, old=old, new=new)


def user_model() -> type[AbstractBaseUser]:
    return get_user_model()
