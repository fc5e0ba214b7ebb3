from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from core.selectors import get_organisation
from registry import selectors, services
from registry.models import (
    DataExport,
    ErasureRun,
    ErasureStep,
    ExportDownload,
    FulfilmentQueue,
    LegalHold,
    ProcessingRestriction,
    RecordOfProcessing,
)


@admin.register(RecordOfProcessing)
class RecordOfProcessingAdmin(admin.ModelAdmin):
    """Read-only record of processing generated from the registry (no table behind it)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record of processing activities (GDPR Art. 30)"),
            "rows": selectors.record_of_processing(),
            "organisation": get_organisation(),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/registry/record_of_processing.html", context)


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
        return TemplateResponse(request, "admin/registry/fulfilment_queue.html", context)


def _dataset_choices():
    from registry.sites import site

    return [("", "— (a subject, not a whole dataset)")] + [(d.label, f"{d.title} ({d.label})") for d in site.datasets()]


class LegalHoldForm(forms.ModelForm):
    """A dataset hold names a registered dataset; a reason is always required."""

    dataset = forms.ChoiceField(choices=_dataset_choices, required=False, label="Dataset")

    class Meta:
        model = LegalHold
        fields = ["user", "email", "dataset", "reason", "ends_at"]

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("A legal hold needs a reason.")
        return reason

    def clean(self):
        data = super().clean()
        if not (data.get("user") or data.get("email") or data.get("dataset")):
            raise forms.ValidationError("A legal hold needs a subject (account or e-mail) or a dataset.")
        return data


@admin.register(LegalHold)
class LegalHoldAdmin(admin.ModelAdmin):
    form = LegalHoldForm
    list_display = ("__str__", "reason", "starts_at", "ends_at", "released_at", "released_by", "created_by")
    list_filter = ("released_at",)
    search_fields = ("email", "dataset", "reason")
    raw_id_fields = ("user",)
    readonly_fields = ("created_by", "released_at", "released_by")
    actions = ["release"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Release the selected holds now", permissions=["change"])
    def release(self, request, queryset):
        for hold in queryset.filter(released_at__isnull=True):
            services.release_legal_hold(hold=hold, actor=request.user)


@admin.register(ProcessingRestriction)
class ProcessingRestrictionAdmin(admin.ModelAdmin):
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


class ExportDownloadInline(admin.TabularInline):
    model = ExportDownload
    extra = 0
    can_delete = False
    readonly_fields = ("user", "via", "ip", "at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(DataExport)
class DataExportAdmin(admin.ModelAdmin):
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
    list_filter = ("state",)
    search_fields = ("data_request__reference",)
    readonly_fields = [f.name for f in DataExport._meta.fields]
    inlines = [ExportDownloadInline]

    @admin.display(description="progress")
    def progress(self, obj):
        return f"{obj.rows_done} / {obj.rows_total} ({obj.percent}%)"

    @admin.display(description="new export")
    def new_export_link(self, obj):
        return format_html(
            '<a href="{}">start a new export</a>', reverse("registry:start_export", args=[obj.data_request_id])
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
class ErasureRunAdmin(admin.ModelAdmin):
    list_display = ("data_request", "state", "approved_by", "approved_at", "finished_at", "review_link")
    list_filter = ("state",)
    search_fields = ("data_request__reference",)
    readonly_fields = [f.name for f in ErasureRun._meta.fields if f.name != "id"]
    inlines = [ErasureStepInline]
    actions = ["approve", "resume"]

    @admin.display(description="preview")
    def review_link(self, obj):
        return format_html('<a href="{}">review</a>', reverse("registry:erasure_review", args=[obj.data_request_id]))

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
