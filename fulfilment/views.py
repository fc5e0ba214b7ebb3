"""Export downloads and progress, the staff pages for erasure, rectification and exports, and account deletion."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from core import ratelimit
from core.decorators import secret_url
from core.permissions import require_perm, staff_perm_required
from core.ratelimit import client_ip
from fulfilment import connected, lifecycle, services
from fulfilment.exports import export_file_path
from fulfilment.forms import (
    AddTaskForm,
    DeleteAccountForm,
    ErasureReviewForm,
    ReassignTaskForm,
    RectifyForm,
    SkipTaskForm,
    StaffTaskAnswerForm,
    SystemTaskAnswerForm,
)
from fulfilment.models import DataExport, ErasureRun, SystemTask
from requests_app.selectors import requester_access
from retention import selectors as retention_selectors


def _export_for(request, export_id):
    export = get_object_or_404(DataExport.objects.select_related("data_request"), pk=export_id)
    token = request.GET.get("t", "")
    via = services.can_download(export=export, user=request.user, status_token=token)
    return export, via


@secret_url
@never_cache
def export_download(request, export_id):
    """Serve the ZIP to its verified requester only, while the link is valid; audit every download."""
    export, via = _export_for(request, export_id)
    path = export_file_path(export) if via else None
    if not via or path is None:
        if not request.user.is_authenticated and not request.GET.get("t"):
            return redirect(f"/accounts/login/?next={request.get_full_path()}")
        raise PermissionDenied(_("This download link is not valid for you, or it has expired."))
    services.record_download(export=export, user=request.user, via=via, ip=client_ip(request))
    filename = f"{export.data_request.reference}-personal-data.zip"
    return FileResponse(path.open("rb"), as_attachment=True, filename=filename, content_type="application/zip")


@never_cache
def export_progress(request, export_id):
    """Progress of an export as JSON, for the requester's status page."""
    export = get_object_or_404(DataExport.objects.select_related("data_request"), pk=export_id)
    access = requester_access(
        data_request=export.data_request, user=request.user, status_token=request.GET.get("t", "")
    )
    if not (access or request.user.has_perm("fulfilment.view_dataexport")):
        raise Http404
    return JsonResponse(
        {
            "state": export.state,
            "rows_done": export.rows_done,
            "rows_total": export.rows_total,
            "percent": export.percent,
        }
    )


# Working a request (rectifying, exporting) is for staff who may change requests, not read-only staff.
WORK_PERM = "requests_app.change_datarequest"
ERASURE_PERM = services.ERASURE_PERM


def _staff_context(request, **extra) -> dict:
    """The admin's own context (user tools, sidebar) so staff pages read as part of the admin."""
    from django.contrib import admin

    return {**admin.site.each_context(request), **extra}


def _request_or_404(pk):
    from requests_app.models import DataRequest

    return get_object_or_404(DataRequest, pk=pk)


@staff_perm_required("fulfilment.view_erasurerun")
def erasure_review(request, pk):
    """Dry-run preview of an erasure, with approval for a privacy officer."""
    data_request = _request_or_404(pk)
    run = ErasureRun.objects.filter(data_request=data_request).first()
    if request.method == "POST":
        form = ErasureReviewForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationError(_("Choose what to do with the erasure."))
            if form.cleaned_data["action"] == "preview":
                require_perm(request.user, ERASURE_PERM, _("You may not prepare erasures."))
                services.preview_erasure(data_request=data_request)
                messages.success(request, _("Preview refreshed."))
            else:
                services.approve_erasure(data_request=data_request, actor=request.user)
                messages.success(request, _("Erasure approved; it runs now."))
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("fulfilment:erasure_review", pk=pk)
    return render(
        request,
        "admin/fulfilment/erasure_review.html",
        _staff_context(
            request,
            data_request=data_request,
            run=run,
            steps=run.steps.all() if run else [],
            can_approve=request.user.has_perm(ERASURE_PERM),
            grace_deletion=services.pending_self_service_deletion(data_request=data_request, run=run),
        ),
    )


@staff_perm_required(WORK_PERM)
def rectify(request, pk):
    """Staff see the subject's registered fields and correct them."""
    data_request = _request_or_404(pk)
    if request.method == "POST":
        form = RectifyForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationError(_("The correction was incomplete; nothing was changed."))
            services.rectify_field(data_request=data_request, actor=request.user, **form.cleaned_data)
            messages.success(request, _("Saved; the change is in the audit trail and the requester was told."))
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("fulfilment:rectify", pk=pk)
    refusal = services.rectification_refusal(data_request=data_request)
    rows = [] if refusal else services.rectifiable_rows(data_request=data_request)
    return render(
        request,
        "admin/fulfilment/rectify.html",
        _staff_context(request, data_request=data_request, rows=rows, refusal=refusal),
    )


@staff_perm_required(WORK_PERM)
def start_export_view(request, pk):
    """Staff start (or restart) an export for a verified request; GET asks for confirmation."""
    data_request = _request_or_404(pk)
    if request.method != "POST":
        return render(
            request,
            "admin/fulfilment/start_export.html",
            _staff_context(
                request, data_request=data_request, exports=data_request.exports.order_by("-created_at")[:10]
            ),
        )
    try:
        services.start_export(data_request=data_request, actor=request.user)
        messages.success(request, _("Export queued."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("admin:fulfilment_dataexport_changelist")
    return redirect(next_url)


# --- account lifecycle: self-service deletion -------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request):
    """Explain what deletion removes and keeps; on a confirmed password, schedule it."""
    pending = lifecycle.pending_deletion(user=request.user)
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and pending is None:
        if not ratelimit.hit(scope="account-delete", key=str(request.user.pk), rate="10/h"):
            form.add_error(None, _("Too many attempts. Please try again later."))
        elif form.is_valid():
            deletion = lifecycle.request_account_deletion(user=request.user)
            messages.success(
                request,
                _("Your account will be deleted on %(date)s. Log in before then to keep it.")
                % {"date": formats.date_format(timezone.localtime(deletion.execute_after), "j F Y")},
            )
            return redirect("fulfilment:delete_account")
    return render(
        request,
        "retention/delete_account.html",
        {
            "form": form,
            "pending": pending,
            "grace_days": settings.ACCOUNT_DELETION_GRACE_DAYS,
            "kept": retention_selectors.kept_after_deletion(),
        },
        status=400 if request.method == "POST" and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def cancel_deletion(request):
    """Confirm, then cancel one's own scheduled deletion."""
    pending = lifecycle.pending_deletion(user=request.user)
    if request.method == "POST":
        try:
            lifecycle.cancel_account_deletion(user=request.user)
        except ValidationError as exc:
            messages.info(request, exc.messages[0])
        else:
            messages.success(request, _("Your account will not be deleted."))
        return redirect("fulfilment:delete_account")
    return render(request, "retention/cancel_deletion.html", {"pending": pending})


# --- connected systems: the owner's task page and HTTP callbacks ---------------------------------------------


@secret_url
@never_cache
@require_http_methods(["GET", "POST"])
def system_task(request, token):
    """The page a system's owner opens from the mailed link, without a staff account: what is asked, about whom,
    by when; they answer with files, "nothing found" or why they cannot."""
    task = connected.task_for_token(token=token)
    if task is None:
        return render(request, "fulfilment/system_task_gone.html", status=404)
    form = SystemTaskAnswerForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        answer = form.cleaned_data["answer"]
        try:
            if answer == "files":
                upload = form.cleaned_data.get("files")
                connected.answer_with_files(task=task, files=[upload] if upload else [])
            elif answer == "none":
                connected.answer_nothing_found(task=task, count=form.cleaned_data.get("deleted"))
            else:
                connected.answer_cannot(task=task, reason=form.cleaned_data.get("reason") or "")
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return render(request, "fulfilment/system_task_done.html", {"task": task})
    status = 400 if request.method == "POST" else 200
    return render(request, "fulfilment/system_task.html", {"task": task, "form": form}, status=status)


@secret_url
@never_cache
@require_http_methods(["GET", "POST"])
def confirm_notice(request, token):
    """The page a recipient's contact opens from the mailed notice, without a staff account: what happened, about
    whom, by when; a POST confirms it was acted on (opening the link changes nothing)."""
    from fulfilment import propagation

    row = propagation.notice_for_token(token=token)
    if row is None:
        return render(request, "fulfilment/notice_gone.html", status=404)
    if request.method == "POST":
        propagation.confirm_notice_by_link(row=row)
        return render(request, "fulfilment/notice_confirmed.html", {"row": row})
    context = {"row": row, "purpose": propagation.purpose_title(row.purpose)}
    return render(request, "fulfilment/notice_confirm.html", context)


@csrf_exempt  # signed with the system's key instead: there is no session, and no cookie to forge
@require_http_methods(["POST"])
def system_callback(request, key):
    """The signed answer of an HTTP system that first said 202; JSON in, JSON out."""
    body = request.body
    if len(body) > 50 * 1024 * 1024:
        return JsonResponse({"error": "answer too large"}, status=413)
    try:
        connected.receive_callback(
            idempotency_key=str(key), body=body, signature=request.headers.get("Privacy-Portal-Signature", "")
        )
    except PermissionDenied as exc:
        return JsonResponse({"error": str(exc) or "refused"}, status=403)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    return JsonResponse({"status": "received"})


# --- connected systems: staff work on a task -------------------------------------------------------------------


def _errors(exc: Exception) -> str:
    return " ".join(getattr(exc, "messages", None) or [str(exc)])


@staff_perm_required("fulfilment.view_systemtask")
@require_http_methods(["GET", "POST"])
def staff_system_task(request, pk):
    """A task as staff see it: what is asked of whom and by when, with reassign, answer, skip and send again."""
    task = get_object_or_404(SystemTask.objects.select_related("data_request").prefetch_related("files"), pk=pk)
    forms = {
        "reassign": ReassignTaskForm(prefix="reassign"),
        "answer": StaffTaskAnswerForm(prefix="answer"),
        "skip": SkipTaskForm(prefix="skip"),
    }
    if request.method == "POST":
        do = request.POST.get("do", "")
        try:
            if do == "reassign":
                form = forms["reassign"] = ReassignTaskForm(request.POST, prefix="reassign")
                if not form.is_valid():
                    raise ValidationError(_("Give the e-mail address of the person who will do it."))
                connected.reassign_task(task=task, owner_email=form.cleaned_data["owner_email"], actor=request.user)
                messages.success(
                    request, _("Reassigned: the new owner has a fresh link; the earlier one no longer works.")
                )
            elif do == "answer":
                form = forms["answer"] = StaffTaskAnswerForm(request.POST, request.FILES, prefix="answer")
                if not form.is_valid():
                    raise ValidationError(_("Choose an answer."))
                upload = form.cleaned_data.get("files")
                connected.answer_task_as_staff(
                    task=task,
                    actor=request.user,
                    answer=form.cleaned_data["answer"],
                    files=[upload] if upload else [],
                    count=form.cleaned_data.get("deleted"),
                    reason=form.cleaned_data.get("reason") or "",
                )
                messages.success(request, _("Answer saved."))
            elif do == "skip":
                form = forms["skip"] = SkipTaskForm(request.POST, prefix="skip")
                if not form.is_valid():
                    raise ValidationError(_("Say why this system is skipped."))
                connected.skip_task(task=task, reason=form.cleaned_data["reason"], actor=request.user)
                messages.success(request, _("Skipped; the reason is on the request's checklist."))
            elif do == "resend":
                services.resend_system_task(task=task, actor=request.user)
                messages.success(request, _("Sent again."))
            else:
                raise ValidationError(_("Choose what to do with the task."))
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _errors(exc))
            task.refresh_from_db()
            return render(
                request,
                "admin/fulfilment/system_task.html",
                _staff_context(request, task=task, data_request=task.data_request, **forms),
                status=403 if isinstance(exc, PermissionDenied) else 400,
            )
        return redirect("fulfilment:staff_system_task", pk=task.pk)
    return render(
        request,
        "admin/fulfilment/system_task.html",
        _staff_context(request, task=task, data_request=task.data_request, **forms),
    )


@staff_perm_required("fulfilment.add_systemtask")
@require_http_methods(["GET", "POST"])
def add_system_task(request, pk):
    """Staff add a task to a request by hand: for a declared system, or for any person by e-mail."""
    from systems.models import ExternalSystem

    data_request = _request_or_404(pk)
    systems = list(ExternalSystem.objects.order_by("name"))
    form = AddTaskForm(request.POST or None, systems=systems)
    if request.method == "POST":
        if form.is_valid():
            try:
                task = connected.add_owner_task(
                    data_request=data_request,
                    actor=request.user,
                    action=form.cleaned_data["action"],
                    system_key=form.cleaned_data["system"],
                    owner_email=form.cleaned_data["owner_email"],
                    owner_name=form.cleaned_data["owner_name"],
                    instructions=form.cleaned_data["instructions"],
                )
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, _errors(exc))
            else:
                messages.success(request, _("Task added; it is sent now."))
                return redirect("fulfilment:staff_system_task", pk=task.pk)
    return render(
        request,
        "admin/fulfilment/add_system_task.html",
        _staff_context(request, data_request=data_request, form=form),
        status=400 if request.method == "POST" else 200,
    )
