from django.contrib import admin

from audit.admin import AuditTrailAdminMixin
from core import services
from core.models import Organisation


@admin.register(Organisation)
class OrganisationAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    list_display = ("name", "contact_email", "dpo_name", "supervisory_authority_name")
    fieldsets = (
        (None, {"fields": ("name", "legal_name", "postal_address", "contact_email")}),
        ("Data-protection officer", {"fields": ("dpo_name", "dpo_email")}),
        (
            "Supervisory authority",
            {"fields": ("supervisory_authority_name", "supervisory_authority_url", "supervisory_authority_email")},
        ),
    )

    def has_add_permission(self, request):
        return not Organisation.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # The service drops the cached copy once the change is committed, not before.
        services.update_organisation(
            organisation=obj, actor=request.user, **{name: form.cleaned_data[name] for name in form.changed_data}
        )
