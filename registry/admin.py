from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from audit.admin import AuditTrailAdminMixin
from core.selectors import get_organisation
from registry import selectors, services
from registry.models import LegalHold, RecordOfProcessing


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


def _dataset_choices():
    from registry.sites import site

    own = [(d.label, f"{d.title} ({d.label})") for d in site.datasets()]
    return [("", "— (a subject, not a whole dataset)"), *own, *site.external_datasets()]


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
class LegalHoldAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    form = LegalHoldForm
    list_display = ("__str__", "reason", "starts_at", "ends_at", "released_at", "released_by", "created_by")
    list_filter = ("released_at",)
    search_fields = ("email", "dataset", "reason")
    raw_id_fields = ("user",)
    readonly_fields = ("created_by", "released_at", "released_by")
    actions = ["release"]

    def save_model(self, request, obj, form, change):
        # Through the services, which check the permission and write the audit trail.
        values = {name: form.cleaned_data.get(name) for name in form.changed_data if name in services.HOLD_FIELDS}
        if change:
            services.update_legal_hold(hold=obj, actor=request.user, **values)
        else:
            fields = {name: form.cleaned_data.get(name) for name in services.HOLD_FIELDS}
            obj.pk = services.place_legal_hold(actor=request.user, **{**fields, "email": fields["email"] or ""}).pk

    @admin.action(description="Release the selected holds now", permissions=["change"])
    def release(self, request, queryset):
        for hold in queryset.filter(released_at__isnull=True):
            services.release_legal_hold(hold=hold, actor=request.user)
