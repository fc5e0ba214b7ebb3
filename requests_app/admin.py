"""Staff work the request queue here; every action calls the same services as everything else."""

import re
from datetime import datetime, time

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.selectors import account_for_verified_email
from audit.admin import AuditTrailAdminMixin
from audit.selectors import list_request_events
from core import csvsafe
from core.languages import language_name
from requests_app import forms, selectors, services
from requests_app.models import (
    OPEN_STATUSES,
    DataRequest,
    InternalNote,
    RequestFile,
    RequestMessage,
    RequestStatus,
)

REFERENCE = re.compile(r"DSR-[0-9A-Z-]+")  # a request's reference, e.g. DSR-2026-000123


def due_badge_class(data_request: DataRequest, now=None) -> tuple[str, str]:
    """(css class, label) for the queue's due-date badge: overdue, due within the SLA's few days, or fine."""
    if not data_request.is_open:
        return "", ""
    left = (data_request.due_date - services.today(now)).days
    if left < 0:
        return "dsr-badge dsr-overdue", gettext("overdue")
    label = gettext("due in %(n)s d") % {"n": left}
    if left <= selectors.SLA_SOON_DAYS:
        return "dsr-badge dsr-due-soon", label
    return "dsr-badge dsr-due-later", label


class DueFilter(admin.SimpleListFilter):
    title = _("due")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [
            ("overdue", _("Overdue")),
            ("soon", _("Due within 3 days")),
            ("week", _("Due this week")),
            ("later", _("Due later")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value in selectors.URGENCIES:
            return selectors.filter_by_urgency(queryset=queryset, urgency=value)
        return selectors.filter_by_due(queryset=queryset, due=value)  # the older "5" and "10" links still work


class StatusFilter(admin.SimpleListFilter):
    """Open requests unless asked otherwise, with how many there are of each status."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        counts = selectors.count_by_status()
        open_total = sum(counts.get(s, 0) for s in OPEN_STATUSES)
        rows = [("open", gettext("Open (%(n)d)") % {"n": open_total})]
        rows += [(value, f"{label} ({counts.get(value, 0)})") for value, label in RequestStatus.choices]
        rows.append(("all", gettext("All (%(n)d)") % {"n": sum(counts.values())}))
        return rows

    def __init__(self, request, params, model, model_admin):
        # A search by reference or e-mail looks through every request, closed ones too, unless a status is chosen.
        self.default = "all" if request.GET.get("q", "").strip() else "open"
        super().__init__(request, params, model, model_admin)

    def value(self):
        return super().value() or self.default

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value == "all":
            return queryset
        if value == "open":
            return queryset.filter(status__in=OPEN_STATUSES)
        return queryset.filter(status=value)


class MineFilter(admin.SimpleListFilter):
    title = _("assigned")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("1", _("Assigned to me")), ("none", _("Assigned to nobody"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return selectors.filter_assigned(queryset=queryset, user=request.user)
        if self.value() == "none":
            return selectors.filter_assigned(queryset=queryset, user=None)
        return queryset


class ApprovalFilter(admin.SimpleListFilter):
    title = _("staff approval")
    parameter_name = "approval"

    def lookups(self, request, model_admin):
        return [("waiting", _("Waiting for approval"))]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return selectors.filter_awaiting_release_approval(queryset=queryset)
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    """By assignee, offering the staff (a small table) rather than scanning every request for its assignees."""

    title = _("assignee")
    parameter_name = "assignee"

    def lookups(self, request, model_admin):
        staff = selectors.list_assignable_staff().order_by("first_name", "last_name", "email")
        return [(str(u.pk), u.get_full_name() or u.get_username()) for u in staff]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(assignee_id=int(self.value()))
        return queryset


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MessageInline(ReadOnlyInline):
    model = RequestMessage
    fields = ("created_at", "from_staff", "body")
    readonly_fields = fields
    verbose_name_plural = _("messages with the requester")


class FileInline(ReadOnlyInline):
    model = RequestFile
    fields = ("created_at", "purpose", "open_link", "size", "content_type")
    readonly_fields = fields

    @admin.display(description=_("file"))
    def open_link(self, obj):
        url = reverse("admin:requests_app_datarequest_file", args=[obj.data_request_id, obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.name)


class NoteInline(admin.TabularInline):
    model = InternalNote
    extra = 1
    can_delete = False
    fields = ("created_at", "body")
    readonly_fields = ("created_at",)
    verbose_name_plural = _("internal notes (staff only)")

    def has_change_permission(self, request, obj=None):
        return False


# The workflow steps' labels; which steps a request allows is ``services.available_workflow_actions``.
WORKFLOW_ACTIONS = {
    "verify": _("Verify manually"),
    "approve": _("Approve and carry out"),
    "start": _("Start work"),
    "request_info": _("Request information"),
    "message": _("Message the requester"),
    "extend": _("Extend deadline"),
    "deny": _("Deny"),
    "complete": _("Complete"),
}


@admin.register(DataRequest)
class DataRequestAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    # Due right after the reference: at 1,366 px it never falls off the screen (the table scrolls in its box).
    list_display = ("reference", "due_badge", "status", "kind_code", "law", "requester_email", "assignee")
    list_filter = (
        StatusFilter,
        DueFilter,
        MineFilter,
        "kind",
        ApprovalFilter,
        "jurisdiction",
        AssigneeFilter,
        # Ranges of received_at, served by its index (a date drill-down listed the years with a DISTINCT over
        # every request on each view).
        ("received_at", admin.DateFieldListFilter),
    )
    list_per_page = 50
    # The status filter already says how many there are in all; a second count of every request is not needed.
    show_full_result_count = False
    search_fields = ("reference", "requester_email")
    list_select_related = ("assignee",)
    ordering = ("due_at", "pk")  # ties by key: the order of the (due_at, id) index
    inlines = [NoteInline, MessageInline, FileInline]
    actions = ["assign_to_me", "assign_to", "verify_manually", "approve_release", "export_csv"]
    change_form_template = "admin/requests_app/datarequest/change_form.html"
    change_list_template = "admin/requests_app/datarequest/change_list.html"
    fieldsets = (
        (None, {"fields": ("reference", "kind", "status", "due_badge", "assignee")}),
        (
            _("Requester"),
            {"fields": ("requester_name", "requester_email", "user", "relationship", "jurisdiction", "language_name")},
        ),
        (_("Request"), {"fields": ("details", "channel", "merged_into")}),
        (
            _("Dates"),
            {
                "fields": (
                    "received_at",
                    "acknowledge_by",
                    "verified_at",
                    "release_approval_required",
                    "release_approved_at",
                    "release_approved_by",
                    "original_due_at",
                    "due_at",
                    "extended_at",
                    "extension_reason",
                    "closed_at",
                )
            },
        ),
        (_("Fulfilment"), {"fields": ("fulfilment",)}),
        (_("Outcome"), {"fields": ("completion_summary", "denial_reason", "denial_text")}),
    )

    class Media:
        css = {"all": ("requests_app/admin.css",)}
        js = ("js/export-progress.js",)

    def get_readonly_fields(self, request, obj=None):
        editable = {"assignee"}
        names = [f for fs in self.fieldsets for f in fs[1]["fields"]]
        return [n for n in names if n not in editable]

    def add_view(self, request, form_url="", extra_context=None):
        """Staff enter a request received by phone, post or e-mail; it goes through the same intake service."""
        if not self.has_add_permission(request):
            return HttpResponse(status=403)
        today = services.today()
        form = forms.StaffIntakeForm(request.POST or None, today=today)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            received_at = None
            if data["received_on"] != today:
                received_at = datetime.combine(data["received_on"], time(12, 0), tzinfo=services.org_tz())
            data_request, created = services.submit_request(
                name=data["requester_name"],
                email=data["requester_email"],
                kind=data["kind"],
                jurisdiction=data["jurisdiction"],
                relationship=data["relationship"],
                details=data["details"],
                user=account_for_verified_email(email=data["requester_email"]),
                language=data["language"],
                channel=data["channel"],
                identity_verified=data["identity_verified"],
                received_at=received_at,
                actor=request.user,
            )
            if created:
                self.log_addition(request, data_request, [{"added": {}}])
                text = gettext("Request %(ref)s recorded; the requester has been sent the acknowledgement.")
            else:
                text = gettext("This person already had an open request of this type: %(ref)s. It was added there.")
            self.message_user(request, text % {"ref": data_request.reference}, messages.SUCCESS)
            self._tell_about_unverified_duplicate(request, data_request)
            return HttpResponseRedirect(reverse("admin:requests_app_datarequest_change", args=[data_request.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Record a request received by phone, post or e-mail"),
            "form": form,
            "opts": self.model._meta,
            "changelist_url": reverse("admin:requests_app_datarequest_changelist"),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/requests_app/datarequest/add.html", context)

    def _tell_about_unverified_duplicate(self, request, data_request: DataRequest) -> None:
        # Staff may know what the requester may not: an earlier open request that this one joins once verified.
        if data_request.verified_at is not None:
            return
        earlier = selectors.open_requests_like(
            email=data_request.requester_email, kind=data_request.kind, exclude_pk=data_request.pk
        ).first()
        if earlier is not None:
            self.message_user(
                request,
                gettext(
                    "This address already has an open request of this type: %(other)s. The two are joined "
                    "once the requester's identity is verified."
                )
                % {"other": earlier.reference},
                messages.WARNING,
            )

    def get_search_results(self, request, queryset, search_term):
        # A whole reference or e-mail address, as staff paste them, is an exact lookup through its index; only
        # a fragment (part of an address) searches every request for it.
        term = search_term.strip()
        if term and (REFERENCE.fullmatch(term.upper()) or ("@" in term and " " not in term)):
            exact = queryset.filter(Q(reference=term.upper()) | Q(requester_email__in={term, term.lower()}))
            if exact.exists():
                return exact, False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request):
        # Whoever works the queue also takes requests made by phone or post (agents have no add_ permission).
        return super().has_add_permission(request) or self.has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # the request log is kept for the legal record; retention deletes it

    @admin.display(description=_("type"), ordering="kind")
    def kind_code(self, obj):
        return obj.kind.replace("_", " ")

    @admin.display(description=_("jurisdiction"), ordering="jurisdiction")
    def law(self, obj):
        return obj.get_jurisdiction_display().split("(")[-1].rstrip(")")

    @admin.display(description=_("due"), ordering="due_at")
    def due_badge(self, obj):
        css, label = due_badge_class(obj)
        date_text = formats.date_format(obj.due_date, "DATE_FORMAT")
        if not css:
            return date_text
        return format_html('{} <span class="{}">{}</span>', date_text, css, label)

    @admin.display(description=_("language"))
    def language_name(self, obj):
        return language_name(obj.language)

    @admin.display(description=_("registry"))
    def fulfilment(self, obj):
        """Links to the registry's pages that carry out this kind of request, with export progress."""
        return fulfilment_html(obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assignee":
            kwargs["queryset"] = selectors.list_assignable_staff()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change and "assignee" in form.changed_data:
            services.assign_request(data_request=obj, assignee=obj.assignee, actor=request.user)

    def save_formset(self, request, form, formset, change):
        if formset.model is InternalNote:
            for f in formset.forms:
                if f.has_changed() and not f.instance.pk and f.cleaned_data.get("body"):
                    services.add_internal_note(
                        data_request=form.instance, body=f.cleaned_data["body"], author=request.user
                    )
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            return
        formset.save()

    # --- list actions --------------------------------------------------------------

    # Django offers an action without ``permissions`` to anyone who may open the list, view-only staff included.
    @admin.action(description=_("Assign to me"), permissions=["change"])
    def assign_to_me(self, request, queryset):
        services.assign_requests(data_requests=queryset, assignee=request.user, actor=request.user)
        self.message_user(request, gettext("Assigned to you."), messages.SUCCESS)

    @admin.action(description=_("Assign to a colleague…"), permissions=["change"])
    def assign_to(self, request, queryset):
        """Asks whom to give the chosen requests to, lists them, and assigns them once confirmed."""
        form = forms.BulkAssignForm(request.POST if "assignee" in request.POST else None)
        if form.is_bound and form.is_valid():
            assignee = form.cleaned_data["assignee"]
            try:
                n = services.assign_requests(data_requests=queryset, assignee=assignee, actor=request.user)
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return None
            self.message_user(
                request,
                gettext("%(n)d request(s) assigned to %(name)s.") % {"n": n, "name": form.assignee_label(assignee)},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Assign requests"),
            "form": form,
            "data_requests": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/requests_app/datarequest/assign.html", context)

    @admin.action(description=_("Verify identity manually"), permissions=["change"])
    def verify_manually(self, request, queryset):
        done = 0
        for dr in queryset:
            try:
                result = services.verify_request(data_request=dr, actor=request.user)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{dr.reference}: {exc.messages[0]}", messages.ERROR)
            else:
                self._tell_if_folded(request, result)
        if done:
            self.message_user(request, gettext("%(n)d request(s) verified.") % {"n": done}, messages.SUCCESS)

    def has_approve_release_permission(self, request, obj=None):
        return request.user.has_perm("requests_app.approve_release")

    @admin.action(description=_("Approve and carry out (confirmed by e-mail only)"), permissions=["approve_release"])
    def approve_release(self, request, queryset):
        done = 0
        for dr in queryset:
            try:
                services.approve_release(data_request=dr, actor=request.user)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{dr.reference}: {exc.messages[0]}", messages.ERROR)
        if done:
            self.message_user(request, gettext("%(n)d request(s) approved.") % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("Export the request log as CSV (CCPA record-keeping)"), permissions=["view"])
    def export_csv(self, request, queryset):
        return request_log_csv(queryset)

    # --- per-request workflow -------------------------------------------------------

    def get_urls(self):
        own = [
            path("metrics/", self.admin_site.admin_view(self.metrics_view), name="requests_app_datarequest_metrics"),
            path("export.csv", self.admin_site.admin_view(self.export_view), name="requests_app_datarequest_export"),
            path(
                "<int:pk>/files/<int:file_id>/",
                self.admin_site.admin_view(self.file_view),
                name="requests_app_datarequest_file",
            ),
            path(
                "<int:pk>/workflow/<str:action>/",
                self.admin_site.admin_view(self.workflow_view),
                name="requests_app_datarequest_workflow",
            ),
        ]
        return own + super().get_urls()

    def metrics_view(self, request):
        from consent.charts import as_of_text
        from requests_app.metrics import build_metrics

        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        figures = build_metrics()
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Request metrics"),
            **figures,
            "as_of_text": as_of_text(figures["as_of"]),
        }
        return TemplateResponse(request, "admin/requests_app/metrics.html", context)

    def file_view(self, request, pk: int, file_id: int):
        row = get_object_or_404(RequestFile, pk=file_id, data_request_id=pk)
        if not self.has_view_permission(request, row.data_request):
            return HttpResponse(status=403)
        response = FileResponse(row.file.open("rb"), as_attachment=True, filename=row.name)
        response["Cache-Control"] = "private, no-store"
        return response

    def export_view(self, request):
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        return request_log_csv(DataRequest.objects.all())

    def workflow_view(self, request, pk: int, action: str):
        data_request = get_object_or_404(DataRequest, pk=pk)
        if action not in WORKFLOW_ACTIONS or not self.has_change_permission(request, data_request):
            return HttpResponse(status=403)
        if action == "approve" and not self.has_approve_release_permission(request, data_request):
            return HttpResponse(status=403)
        form_class = {
            "request_info": forms.InformationForm,
            "message": forms.StaffMessageForm,
            "extend": forms.ReasonForm,
            "deny": forms.DenyForm,
            "complete": forms.CompleteForm,
        }.get(action)
        change_url = reverse("admin:requests_app_datarequest_change", args=[pk])
        form = None
        if request.method == "POST":
            form = form_class(request.POST, request.FILES) if form_class else None
            if form is None or form.is_valid():
                try:
                    self._run_action(request, data_request, action, form.cleaned_data if form else {})
                except ValidationError as exc:
                    self.message_user(request, " ".join(exc.messages), messages.ERROR)
                else:
                    data_request.refresh_from_db()
                    self.message_user(
                        request,
                        selectors.workflow_done_message(action=action, data_request=data_request),
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(change_url)
        elif form_class:
            form = form_class()
        context = {
            **self.admin_site.each_context(request),
            # What confirming does, shown before it is done.
            "new_due_date": services.extended_due_date(data_request=data_request) if action == "extend" else None,
            "title": f"{WORKFLOW_ACTIONS[action]}: {data_request.reference}",
            "data_request": data_request,
            "form": form,
            "action": action,
            "action_label": WORKFLOW_ACTIONS[action],
            "opts": self.model._meta,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/requests_app/datarequest/workflow.html", context)

    def _run_action(self, request, data_request, action: str, data: dict) -> None:
        actor = request.user
        if action == "verify":
            self._tell_if_folded(request, services.verify_request(data_request=data_request, actor=actor))
        elif action == "approve":
            services.approve_release(data_request=data_request, actor=actor)
        elif action == "start":
            services.start_request(data_request=data_request, actor=actor)
        elif action == "request_info":
            services.request_information(data_request=data_request, actor=actor, message=data["message"])
        elif action == "message":
            services.post_message(data_request=data_request, body=data["body"], author=actor, from_staff=True)
        elif action == "extend":
            services.extend_deadline(data_request=data_request, reason=data["reason"], actor=actor)
        elif action == "deny":
            services.deny_request(
                data_request=data_request, actor=actor, reason=data["reason"], requester_text=data["requester_text"]
            )
        elif action == "complete":
            services.complete_request(
                data_request=data_request, actor=actor, summary=data["summary"], files=data.get("files") or ()
            )

    def _tell_if_folded(self, request, data_request: DataRequest) -> None:
        if data_request.merged_into_id:
            self.message_user(
                request,
                gettext("%(ref)s repeated the open request %(target)s of the same person and was added to it.")
                % {"ref": data_request.reference, "target": data_request.merged_into.reference},
                messages.INFO,
            )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        if obj is not None and self.has_change_permission(request, obj):
            extra_context["workflow_actions"] = [
                (name, WORKFLOW_ACTIONS[name])
                for name in services.available_workflow_actions(data_request=obj)
                if name != "approve" or self.has_approve_release_permission(request, obj)
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    audit_trail_on_change_page = True

    def audit_trail_events(self, obj):
        # Everything done under the request's reference: its own changes, its exports and erasure runs.
        return list_request_events(reference=obj.reference)


EXPORT_KINDS = ("access", "portability")


def fulfilment_html(obj: DataRequest) -> str:
    """The registry's fulfilment links for the request's kind (erasure review, rectification, exports)."""
    if obj is None or obj.pk is None:
        return "-"
    parts = []
    if obj.kind == "erasure":
        run = getattr(obj, "erasure_run", None)
        state = format_html(" ({})", run.get_state_display()) if run is not None else ""
        if run is not None and run.error and run.state in ("approved", "running", "failed"):
            # "Waiting on Legacy web shop: connection refused": why the erasure has not finished.
            state = format_html("{} <strong>{}</strong>", state, run.error)
        parts.append(
            format_html(
                '<a class="button" href="{}">{}</a>{}',
                reverse("fulfilment:erasure_review", args=[obj.pk]),
                gettext("Review and approve the erasure"),
                state,
            )
        )
    elif obj.kind == "rectification":
        parts.append(
            format_html(
                '<a class="button" href="{}">{}</a>',
                reverse("fulfilment:rectify", args=[obj.pk]),
                gettext("Correct the requester's data"),
            )
        )
    elif obj.kind in EXPORT_KINDS:
        exports = list(obj.exports.all()[:3])
        active = any(e.state in ("pending", "running", "ready") for e in exports)
        for export in exports:
            parts.append(
                format_html(
                    '<div class="dsr-export" data-progress-url="{}"><a href="{}">{} {}</a>: {} <progress max="100"'
                    ' value="{}" aria-label="{}">{}%</progress> <span data-progress-text>{} / {}</span></div>',
                    reverse("fulfilment:export_progress", args=[export.pk]),
                    # The export's own page: its result, and building it again.
                    reverse("admin:fulfilment_dataexport_change", args=[export.pk]),
                    gettext("Export"),
                    formats.date_format(timezone.localtime(export.created_at), "DATETIME_FORMAT"),
                    export.get_state_display(),
                    export.percent,
                    gettext("Export progress"),
                    export.percent,
                    export.rows_done,
                    export.rows_total,
                )
            )
            if export.error and export.state in ("pending", "running", "failed"):
                parts.append(format_html("<strong>{}</strong>", export.error))
        if obj.awaits_release_approval:
            parts.append(
                gettext("Confirmed by e-mail only: the export starts once a staff member approves the request.")
            )
        elif obj.verified_at is not None and obj.is_open and not active:
            # A button of the change form sent elsewhere: the page already carries the CSRF token.
            parts.append(
                format_html(
                    '<button type="submit" class="button" formaction="{}" formmethod="post" name="next" value="{}">'
                    "{}</button>",
                    reverse("fulfilment:start_export", args=[obj.pk]),
                    reverse("admin:requests_app_datarequest_change", args=[obj.pk]),
                    gettext("Start a new export") if exports else gettext("Start the export"),
                )
            )
        elif not parts:
            parts.append(gettext("An export can start once the requester's identity is verified."))
    tasks = list(obj.system_tasks.order_by("system_name")) if hasattr(obj, "system_tasks") else []
    if tasks:
        # The request's checklist: one line per connected system, with its state and when it changed.
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a>: <strong>{}</strong> <small>({})</small>{}</li>',
            (
                (
                    reverse("fulfilment:staff_system_task", args=[t.pk]),
                    t.system_name,
                    f"{t.get_state_display()}, {gettext('overdue')}" if t.is_overdue else t.get_state_display(),
                    formats.date_format(timezone.localtime(t.changed_at), "SHORT_DATETIME_FORMAT"),
                    format_html(" · {}", t.error or t.answer_note) if (t.error or t.answer_note) else "",
                )
                for t in tasks
            ),
        )
        parts.append(format_html('<ul class="systems-checklist">{}</ul>', items))
    told = list(obj.propagations.order_by("recipient_name")) if hasattr(obj, "propagations") else []
    if told:
        # The propagation ledger of this request: each recipient told, by when the law wants it, and its answer.
        rows = format_html_join(
            "",
            "<li>{}: <strong>{}</strong> <small>({}: {}; {})</small></li>",
            (
                (
                    p.recipient_name,
                    p.get_state_display(),
                    p.get_event_display(),
                    gettext("due %(date)s")
                    % {"date": formats.date_format(timezone.localtime(p.due_at), "DATE_FORMAT")},
                    p.rule,
                )
                for p in told
            ),
        )
        parts.append(format_html('<p>{}</p><ul class="recipients-told">{}</ul>', gettext("Recipients told:"), rows))
    if not parts:
        parts.append(gettext("Handled by staff; nothing to run in the registry for this type."))
    # Any request can send a task to a system or a person the portal cannot reach by itself.
    parts.append(
        format_html(
            ' <a class="button" href="{}">{}</a>',
            reverse("fulfilment:add_system_task", args=[obj.pk]),
            gettext("Add a task for a system or a person"),
        )
    )
    return format_html_join("", "{}", ((p,) for p in parts))


def request_log_csv(queryset) -> HttpResponse:
    """The CCPA request log as a CSV download."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="request-log.csv"'
    csvsafe.writer(response).writerows(selectors.request_log_rows(queryset=queryset))
    return response
