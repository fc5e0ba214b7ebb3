from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from audit.admin import AuditTrailAdminMixin
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


@admin.register(DataExport)
class DataExportAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    list_display = (
        "data_request",
        "state",
        "progress",
        "size_bytes",
        "created_at",
        "expires_at",
        "download_count",
        "new_export_link",
    )
    list_filter = ("state", ExportWaitingFilter)
    search_fields = ("data_request__reference",)
    readonly_fields = [f.name for f in DataExport._meta.fields]
    inlines = [ExportDownloadInline]

    @admin.display(description="progress")
    def progress(self, obj):
        return f"{obj.rows_done} / {obj.rows_total} ({obj.percent}%)"

    @admin.display(description="new export")
    def new_export_link(self, obj):
        return format_html(
            '<a href="{}">start a new export</a>', reverse("fulfilment:start_export", args=[obj.data_request_id])
        )

    def has_add_permission(self, request):
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
