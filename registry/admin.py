from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from audit.admin import AuditTrailAdminMixin
from core.selectors import get_organisation
from registry import selectors, services
from registry.models import LegalHold, ProcessingActivity, RecordOfProcessing


@admin.register(RecordOfProcessing)
class RecordOfProcessingAdmin(admin.ModelAdmin):
    """The record of processing (Art. 30), one entry per activity: the declarations as the officer worded them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        activities = selectors.processing_activities()
        fields_by_purpose: dict[str, list[dict]] = {}
        for row in selectors.record_of_processing():
            fields_by_purpose.setdefault(row["purpose_key"], []).append(row)
        worded = dict(ProcessingActivity.objects.values_list("purpose", "pk"))
        entries = [
            {"activity": a, "fields": fields_by_purpose.get(a.purpose, []), "wording_pk": worded.get(a.purpose)}
            for a in activities
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record of processing activities (GDPR Art. 30)"),
            "entries": entries,
            "unplaced": selectors.unplaced_vendor_transfers(activities),
            "organisation": get_organisation(),
            "can_word": request.user.has_perm("registry.change_processingactivity"),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/registry/record_of_processing.html", context)


class ProcessingActivityForm(forms.ModelForm):
    """An officer's wording: every text may stay empty to keep the declared one; transfers one per line."""

    transfers_text = forms.CharField(
        label=_("Transfers to third countries"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One per line: recipient; country; safeguard (for example: Mail provider; United States; "
            "standard contractual clauses)."
        ),
    )

    class Meta:
        model = ProcessingActivity
        fields = [
            "purpose",
            "name",
            "description",
            "data_categories",
            "data_subjects",
            "recipients",
            "retention_note",
            "security_measures",
        ]
        help_texts = {
            "data_categories": _("One per line. Empty: the categories the declarations name."),
            "recipients": _("One per line. Empty: the recipients the declarations name."),
            "retention_note": _("Empty: the retention as enforced."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["transfers_text"].initial = "\n".join(
                "; ".join([t["recipient"], t["country"], t["safeguard"]]) for t in self.instance.transfers
            )

    def clean_transfers_text(self):
        transfers = []
        for line in self.cleaned_data["transfers_text"].splitlines():
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(";")]
            if len(parts) < 2 or not (parts[0] and parts[1]):
                raise forms.ValidationError(_("Write each transfer as: recipient; country; safeguard."))
            transfers.append({"recipient": parts[0], "country": parts[1], "safeguard": "; ".join(parts[2:])})
        return transfers


@admin.register(ProcessingActivity)
class ProcessingActivityAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    """Where an officer words a processing activity; reached from the record of processing."""

    form = ProcessingActivityForm
    list_display = ("__str__", "officer_added", "updated_at")
    search_fields = ("purpose", "name")

    def has_module_permission(self, request):
        return False  # one entry in the menu: the record of processing itself

    def get_readonly_fields(self, request, obj=None):
        return ("purpose",) if obj else ()

    def get_changeform_initial_data(self, request):
        return {"purpose": request.GET.get("purpose", "")}

    def save_model(self, request, obj, form, change):
        # Through the services, which check the permission and write the audit trail.
        data = form.cleaned_data
        saved = services.save_processing_activity(
            actor=request.user,
            purpose=obj.purpose,
            name=data.get("name", ""),
            description=data.get("description", ""),
            data_categories=data.get("data_categories", ""),
            data_subjects=data.get("data_subjects", ""),
            recipients=data.get("recipients", ""),
            transfers=data.get("transfers_text", []),
            retention_note=data.get("retention_note", ""),
            security_measures=data.get("security_measures", ""),
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        services.remove_processing_activity(actor=request.user, activity=obj)

    def delete_queryset(self, request, queryset):
        for activity in queryset:
            services.remove_processing_activity(actor=request.user, activity=activity)

    def response_add(self, request, obj, post_url_continue=None):
        return self._back_to_record(request) or super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        return self._back_to_record(request) or super().response_change(request, obj)

    def response_delete(self, request, obj_display, obj_id):
        return HttpResponseRedirect(reverse("admin:registry_recordofprocessing_changelist"))

    def _back_to_record(self, request):
        if "_continue" in request.POST or "_addanother" in request.POST:
            return None
        self.message_user(request, _("The record of processing now reads as you worded it."))
        return HttpResponseRedirect(reverse("admin:registry_recordofprocessing_changelist"))


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
