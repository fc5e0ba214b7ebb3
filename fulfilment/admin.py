from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.admin import AuditTrailAdminMixin
from core.permissions import require_perm
from fulfilment import selectors, services
from fulfilment.models import (
    AccountDeletion,
    DataExport,
    ErasureRun,
    ErasureStep,
    ExportDownload,
    FulfilmentQueue,
    InactiveAccountNotice,
    Propagation,
    PropagationState,
    SystemTask,
)
from registry.models import ProcessingRestriction


@admin.register(FulfilmentQueue)
class FulfilmentQueueAdmin(admin.ModelAdmin):
    """Verified requests with the registry's fulfilment pages: export, erasure review, rectification."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        include_closed = request.GET.get("all") == "1"
        context = {
            **self.admin_site.each_context(request),
            "title": _("Requests to fulfil"),
            "requests": selectors.list_requests_to_fulfil(include_closed=include_closed)[:500],
            "include_closed": include_closed,
            "export_kinds": sorted(services.EXPORT_KINDS),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/fulfilment/fulfilment_queue.html", context)


class ExportDownloadInline(admin.TabularInline):
    model = ExportDownload
    extra = 0
    can_delete = False
    readonly_fields = ("user", "via", "ip", "at")

    def has_add_permission(self, request, obj=None):
        return False


class WaitingFilter(admin.SimpleListFilter):
    """Jobs held up by a connected system that did not answer; the dashboard's "stuck" figures link here."""

    title = _("held up")
    parameter_name = "waiting"
    reader = None  # the selector listing the held-up rows

    def lookups(self, request, model_admin):
        return [("1", _("Waiting on a connected system"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset & type(self).reader()
        return queryset


class ExportWaitingFilter(WaitingFilter):
    reader = staticmethod(selectors.exports_retrying)


class ErasureWaitingFilter(WaitingFilter):
    reader = staticmethod(selectors.erasures_waiting_on_systems)


def _local(moment) -> str:
    """A moment in the organisation's time zone, in the admin's one date-and-time format for the language."""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else "—"


@admin.register(DataExport)
class DataExportAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    change_form_template = "admin/fulfilment/dataexport/change_form.html"
    list_display = (
        "request_link",
        "state_words",
        "progress",
        "created",
        "link_expires",
        "downloads",
        "new_export_link",
    )
    list_filter = ("state", ExportWaitingFilter)
    search_fields = ("data_request__reference",)
    # What staff read on an export's page: words and local times, no storage paths or internal ids.
    readonly_fields = (
        "request_link",
        "state_words",
        "progress_bar",
        "result",
        "created",
        "started",
        "finished",
        "downloads",
        "problem",
    )
    fields = readonly_fields
    inlines = [ExportDownloadInline]

    class Media:
        js = ("js/export-progress.js",)

    @admin.display(description=gettext_lazy("Progress"))
    def progress(self, obj):
        return f"{obj.rows_done} / {obj.rows_total} ({obj.percent}%)"

    @admin.display(description=gettext_lazy("Start a new export"))
    def new_export_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("fulfilment:start_export", args=[obj.data_request_id]),
            _("Start a new export"),
        )

    @admin.display(description=gettext_lazy("Link expires"))
    def link_expires(self, obj):
        return _local(obj.expires_at)

    @admin.display(description=gettext_lazy("Request"))
    def request_link(self, obj):
        data_request = obj.data_request
        return format_html(
            '<a href="{}">{}</a> ({})',
            reverse("admin:requests_app_datarequest_change", args=[data_request.pk]),
            data_request.reference,
            data_request.get_kind_display(),
        )

    @admin.display(description=gettext_lazy("State"))
    def state_words(self, obj):
        return obj.get_state_display()

    @admin.display(description=gettext_lazy("Progress"))
    def progress_bar(self, obj):
        # The one export-progress component; while the build runs, the page reloads itself when it ends.
        building = obj.state in (DataExport.State.PENDING, DataExport.State.RUNNING)
        return format_html(
            '<div class="dsr-export" data-progress-url="{}"{}><progress max="100" value="{}" aria-label="{}">{}%</progress>'
            " <span data-progress-text>{} / {}</span></div>",
            reverse("fulfilment:export_progress", args=[obj.pk]),
            mark_safe(" data-progress-reload") if building else "",  # noqa: S308 - a fixed attribute
            obj.percent,
            _("Export progress"),
            obj.percent,
            obj.rows_done,
            obj.rows_total,
        )

    @admin.display(description=gettext_lazy("Result"))
    def result(self, obj):
        if obj.state == DataExport.State.READY:
            return format_html(
                '{} · {} <a href="{}">{}</a>',
                _("Ready: %(size)s, the requester can download it until %(date)s.")
                % {"size": filesizeformat(obj.size_bytes), "date": _local(obj.expires_at)},
                _("The requester finds the link on their request's page and in the mail they were sent."),
                reverse("admin:requests_app_datarequest_change", args=[obj.data_request_id]),
                _("Open the request"),
            )
        if obj.state == DataExport.State.FAILED:
            return _("The build failed; the privacy officers were told. Build it again once the cause is fixed.")
        if obj.state == DataExport.State.EXPIRED:
            return _("Its download link no longer works.")
        return _("Being built: the result shows here when it is ready.")

    @admin.display(description=gettext_lazy("Created"))
    def created(self, obj):
        return _local(obj.created_at)

    @admin.display(description=gettext_lazy("Build started"))
    def started(self, obj):
        return _local(obj.started_at)

    @admin.display(description=gettext_lazy("Build finished"))
    def finished(self, obj):
        return _local(obj.finished_at)

    @admin.display(description=gettext_lazy("Downloads"))
    def downloads(self, obj):
        return obj.download_count

    @admin.display(description=gettext_lazy("Problem"))
    def problem(self, obj):
        return obj.error or "—"

    def get_urls(self):
        rebuild = self.admin_site.admin_view(self.rebuild_view)
        return [
            path("<path:object_id>/rebuild/", rebuild, name="fulfilment_dataexport_rebuild"),
            *super().get_urls(),
        ]

    def _may_rebuild(self, request, export) -> bool:
        building = export.state in (DataExport.State.PENDING, DataExport.State.RUNNING)
        return (
            request.user.has_perm(services.WORK_PERM)
            and export.data_request.is_open
            and export.data_request.verified_at is not None
            and not building
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        export = self.get_object(request, object_id)
        extra = {"may_rebuild": export is not None and self._may_rebuild(request, export)}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def rebuild_view(self, request, object_id):
        """GET: what building the export again does; POST: build it, then the new export's page."""
        require_perm(request.user, services.WORK_PERM, _("You may not start exports."))
        export = self.get_object(request, object_id)
        if export is None:
            raise Http404
        back = reverse("admin:fulfilment_dataexport_change", args=[export.pk])
        if request.method == "POST":
            try:
                new = services.rebuild_export(export=export, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.WARNING)
                return HttpResponseRedirect(back)
            self.message_user(request, _("The export is being built again."), messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:fulfilment_dataexport_change", args=[new.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Build the export again"),
            "export": export,
            "data_request": export.data_request,
            "opts": self.model._meta,
            "may_rebuild": self._may_rebuild(request, export),
            "expires": _local(export.expires_at),
            "back": back,
        }
        return TemplateResponse(request, "admin/fulfilment/rebuild_export.html", context)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The page reads; the build goes through its own button and the service.
        return False


class ErasureStepInline(admin.TabularInline):
    model = ErasureStep
    extra = 0
    can_delete = False
    readonly_fields = ("position", "dataset", "state", "counts", "kept", "finished_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ErasureRun)
class ErasureRunAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    list_display = ("data_request", "state", "approved_by", "approved_at", "finished_at", "review_link")
    list_filter = ("state", ErasureWaitingFilter)
    search_fields = ("data_request__reference",)
    readonly_fields = [f.name for f in ErasureRun._meta.fields if f.name != "id"]
    inlines = [ErasureStepInline]
    actions = ["approve", "resume"]

    @admin.display(description="preview")
    def review_link(self, obj):
        return format_html('<a href="{}">review</a>', reverse("fulfilment:erasure_review", args=[obj.data_request_id]))

    def has_add_permission(self, request):
        return False

    @admin.action(description="Approve the selected erasures (privacy officers)", permissions=["change"])
    def approve(self, request, queryset):
        for run in queryset:
            try:
                services.approve_erasure(data_request=run.data_request, actor=request.user)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{run}: {exc}", messages.ERROR)

    @admin.action(description="Resume the selected failed erasures", permissions=["change"])
    def resume(self, request, queryset):
        for run in queryset.select_related("data_request"):
            try:
                services.resume_erasure(data_request=run.data_request, actor=request.user)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{run}: {exc}", messages.ERROR)


@admin.register(InactiveAccountNotice)
class InactiveAccountNoticeAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "user", "status", "warned_at", "delete_after", "closed_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in InactiveAccountNotice._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the warning sent is part of the account's deletion record


@admin.register(AccountDeletion)
class AccountDeletionAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "request_reference", "user", "status", "requested_at", "execute_after", "closed_at")
    list_filter = ("status",)
    search_fields = ("request_reference",)
    readonly_fields = [f.name for f in AccountDeletion._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a scheduled deletion guards its erasure request; it ends by running or being cancelled


# Restrictions are declared data (registry); applying and lifting them is fulfilment's, with the mail and trail.
@admin.register(ProcessingRestriction)
class ProcessingRestrictionAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "kind", "purposes", "request_reference", "created_at", "lift_notified_at", "lifted_at")
    list_filter = ("kind", "lifted_at")
    search_fields = ("email", "request_reference")
    raw_id_fields = ("user",)
    readonly_fields = ("lift_notified_at", "lifted_at")
    actions = ["notify_lift", "lift"]

    @admin.action(description="Tell the subject the restriction will be lifted", permissions=["change"])
    def notify_lift(self, request, queryset):
        for r in queryset:
            try:
                services.notify_restriction_lift(restriction=r, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{r}: {' '.join(exc.messages)}", messages.ERROR)

    @admin.action(description="Lift the selected restrictions (subject must have been told)", permissions=["change"])
    def lift(self, request, queryset):
        for r in queryset:
            try:
                services.lift_restriction(restriction=r, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{r}: {' '.join(exc.messages)}", messages.ERROR)


@admin.register(SystemTask)
class SystemTaskAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    """Each request's work in the HTTP and manual systems: what is asked, of whom, by when, and its state."""

    list_display = ("data_request", "system_name", "action", "state", "due_at", "changed_at", "work_link")
    list_filter = ("state", "system_name", "action")
    search_fields = ("data_request__reference",)
    readonly_fields = [
        f.name for f in SystemTask._meta.fields if f.name not in ("id", "token_hash", "idempotency_key", "result")
    ]
    exclude = ("token_hash", "idempotency_key", "result")
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False  # tasks are added from a request's page, where the request is known

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("next step"))
    def work_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("fulfilment:staff_system_task", args=[obj.pk]), _("reassign or answer")
        )

    @admin.action(description=_("Send the selected tasks again"), permissions=["change"])
    def send_again(self, request, queryset):
        for task in queryset.exclude(state__in=["done", "skipped"]):
            services.resend_system_task(task=task, actor=request.user)


class OverdueFilter(admin.SimpleListFilter):
    title = _("due")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("1", _("Overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(state=PropagationState.OVERDUE)
        return queryset


@admin.register(Propagation)
class PropagationAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    """The propagation ledger: each recipient told of an opt-out, a withdrawn consent, a restriction or an erasure,
    the legal due date, and whether it confirmed."""

    list_display = (
        "recipient_name",
        "event",
        "request_reference",
        "state",
        "sent_at",
        "confirmed_at",
        "due_at",
        "rule",
    )
    list_filter = (OverdueFilter, "state", "event", "recipient_name")
    search_fields = ("request_reference", "recipient_name")
    fields = (
        "recipient_name",
        "vendor",
        "contact_email",
        "event",
        "purpose",
        "request_reference",
        "rule",
        "due_at",
        "state",
        "sent_at",
        "confirmed_at",
        "error",
        "created_at",
    )
    readonly_fields = fields
    actions = ["confirm", "send_again"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the ledger is the proof that recipients were told

    @admin.action(description=_("The recipient confirmed: mark the selected notices confirmed"), permissions=["change"])
    def confirm(self, request, queryset):
        from fulfilment import propagation

        for row in queryset.filter(task__isnull=True):
            propagation.confirm_propagation(row=row, actor=request.user)
        if queryset.filter(task__isnull=False).exists():
            self.message_user(
                request,
                _("A request's notices are confirmed by answering its task on the request's page."),
                messages.INFO,
            )

    @admin.action(description=_("Send the selected notices again"), permissions=["change"])
    def send_again(self, request, queryset):
        from fulfilment import propagation

        for row in queryset.exclude(state=PropagationState.CONFIRMED):
            try:
                propagation.resend_propagation(row=row, actor=request.user)
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{row}: {exc}", messages.ERROR)
