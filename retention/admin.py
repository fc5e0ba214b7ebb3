from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from retention.enforcement import RunLocked, enforce_retention
from retention.models import (
    AccountDeletion,
    InactiveAccountNotice,
    RetentionPolicy,
    RetentionRun,
    RetentionRunItem,
)


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(admin.ModelAdmin):
    list_display = ("name", "dataset", "period_display", "date_field", "action", "enabled", "source", "customised")
    list_filter = ("enabled", "action", "source", "customised")
    search_fields = ("name", "dataset", "description", "legal_basis")
    readonly_fields = ("source", "customised", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "description", "dataset", "enabled")}),
        (_("Period"), {"fields": ("period", "period_unit", "date_field", "filters")}),
        (_("Action"), {"fields": ("action", "fields", "legal_basis")}),
        (_("Origin"), {"fields": ("source", "customised", "created_at", "updated_at")}),
    )
    actions = ["dry_run_selected"]

    @admin.display(description=_("period"))
    def period_display(self, obj):
        return obj.period_display

    def save_model(self, request, obj, form, change):
        # A staff edit of a seeded policy is kept when the registry's rules are seeded again.
        if change and form.changed_data:
            obj.customised = True
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Dry run the selected policies (counts only)"), permissions=["view"])
    def dry_run_selected(self, request, queryset):
        for policy in queryset:
            try:
                run = enforce_retention(dry_run=True, policy_name=policy.name, trigger="admin")
            except RunLocked as exc:
                self.message_user(request, str(exc), messages.WARNING)
                return
            item = run.items.first()
            if item:
                self.message_user(
                    request,
                    _("%(name)s: %(matched)s rows match, %(hold)s held.")
                    % {"name": policy.name, "matched": item.matched, "hold": item.skipped_hold},
                )


class RunItemInline(admin.TabularInline):
    model = RetentionRunItem
    extra = 0
    can_delete = False
    fields = (
        "policy_name", "dataset", "action", "status", "cutoff", "matched", "deleted", "modified",
        "skipped_hold", "batches", "duration_seconds", "last_pk", "errors",
    )  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RetentionRun)
class RetentionRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "started_at", "finished_at", "status", "dry_run", "trigger", "totals")
    list_filter = ("status", "dry_run", "trigger")
    readonly_fields = [f.name for f in RetentionRun._meta.fields]
    inlines = [RunItemInline]
    date_hierarchy = "started_at"

    @admin.display(description=_("matched / deleted / modified / held"))
    def totals(self, obj):
        items = list(obj.items.all())
        return " / ".join(
            str(sum(getattr(i, f) for i in items)) for f in ("matched", "deleted", "modified", "skipped_hold")
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # run reports are the proof that retention is kept


@admin.register(InactiveAccountNotice)
class InactiveAccountNoticeAdmin(admin.ModelAdmin):
    list_display = ("pk", "user", "status", "warned_at", "delete_after", "closed_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in InactiveAccountNotice._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the warning sent is part of the account's deletion record


@admin.register(AccountDeletion)
class AccountDeletionAdmin(admin.ModelAdmin):
    list_display = ("pk", "request_reference", "user", "status", "requested_at", "execute_after", "closed_at")
    list_filter = ("status",)
    search_fields = ("request_reference",)
    readonly_fields = [f.name for f in AccountDeletion._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a scheduled deletion guards its erasure request; it ends by running or being cancelled
