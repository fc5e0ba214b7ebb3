from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import PeriodicTaskAdmin, PeriodicTaskForm
from django_celery_beat.models import PeriodicTask

from audit.admin import AuditTrailAdminMixin
from privacyportal.celery import SCHEDULED_JOBS, may_run_on_schedule
from retention.enforcement import RunLocked, enforce_retention
from retention.models import (
    RetentionPolicy,
    RetentionRun,
    RetentionRunItem,
    ScheduledJob,
    ScheduledJobEvent,
)
from retention.services import (
    delete_retention_policy,
    record_schedule_change,
    run_scheduled_job,
    save_retention_policy,
    switch_scheduled_jobs,
)


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
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
        save_retention_policy(policy=obj, actor=request.user)

    def delete_model(self, request, obj):
        delete_retention_policy(policy=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for policy in queryset:
            delete_retention_policy(policy=policy, actor=request.user)

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
class RetentionRunAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
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


# --- scheduled jobs ------------------------------------------------------------------------
# django-celery-beat's periodic task screen runs whatever task, arguments and queue a row names, and its
# "Run selected tasks" action has no permission of its own. Staff other than superusers get a narrow
# version of it: for the portal's own jobs only, they may enable, disable and reschedule. The portal's
# "Scheduled jobs" screen lists the jobs and runs one now, through its service.


def _job_state(obj: PeriodicTask) -> dict:
    return {
        "enabled": obj.enabled,
        "crontab": str(obj.crontab) if obj.crontab_id else "",
        "interval": str(obj.interval) if obj.interval_id else "",
        "start_time": obj.start_time.isoformat() if obj.start_time else "",
    }


class ScheduleOnlyForm(forms.ModelForm):
    """What staff other than superusers may change on a scheduled job."""

    class Meta:
        model = PeriodicTask
        fields = ("enabled", "crontab", "interval", "start_time")


class ScheduledJobTaskForm(PeriodicTaskForm):
    """The superusers' form: any field, but the task must be one of the portal's scheduled jobs."""

    def clean(self):
        data = super().clean()
        task = data.get("task")
        if task and not may_run_on_schedule(task):
            raise forms.ValidationError(
                _("%(task)s is not one of the portal's scheduled jobs: a schedule may not run it.") % {"task": task}
            )
        return data


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class PortalPeriodicTaskAdmin(AuditTrailAdminMixin, PeriodicTaskAdmin):
    """Periodic tasks: superusers edit them (scheduled jobs only); other staff only switch and reschedule them."""

    form = ScheduledJobTaskForm
    actions = ("enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks")
    schedule_fieldsets = (
        (None, {"fields": ("name", "task", "description", "enabled")}),
        (_("Schedule"), {"fields": ("crontab", "crontab_translation", "interval", "start_time", "last_run_at")}),
    )
    schedule_fields = ("enabled", "crontab", "interval", "start_time")

    def get_fieldsets(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return self.schedule_fieldsets

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        shown = {f for _name, opts in self.schedule_fieldsets for f in opts["fields"]}
        return tuple(sorted(shown - set(self.schedule_fields)))

    def get_form(self, request, obj=None, change=False, **kwargs):
        if not request.user.is_superuser:
            kwargs["form"] = ScheduleOnlyForm
        return super().get_form(request, obj, change=change, **kwargs)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if request.user.is_superuser or obj is None:
            return allowed
        return allowed and obj.task in SCHEDULED_JOBS

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            # It sends the row's task, arguments and queue as they are: the portal's "Run now" replaces it.
            actions.pop("run_tasks", None)
        return actions

    def _switchable(self, request, queryset):
        return queryset if request.user.is_superuser else queryset.filter(task__in=SCHEDULED_JOBS)

    def _switch(self, request, queryset, enabled):
        count = switch_scheduled_jobs(jobs=self._switchable(request, queryset), actor=request.user, enabled=enabled)
        self.message_user(request, _("%(n)s tasks changed.") % {"n": count})

    @admin.action(description=_("Enable selected tasks"), permissions=["change"])
    def enable_tasks(self, request, queryset):
        self._switch(request, queryset, True)

    @admin.action(description=_("Disable selected tasks"), permissions=["change"])
    def disable_tasks(self, request, queryset):
        self._switch(request, queryset, False)

    @admin.action(description=_("Toggle activity of selected tasks"), permissions=["change"])
    def toggle_tasks(self, request, queryset):
        self._switch(request, queryset, None)

    @admin.action(description=_("Run selected tasks"), permissions=["run"])
    def run_tasks(self, request, queryset):
        return super().run_tasks(request, queryset)

    def has_run_permission(self, request):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        old = _job_state(PeriodicTask.objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)
        if change:
            record_schedule_change(job=obj, actor=request.user, old=old, new=_job_state(obj))


@admin.register(ScheduledJob)
class ScheduledJobAdmin(admin.ModelAdmin):
    """The portal's scheduled jobs: what each does, when it runs next, and "Run now"."""

    list_display = ("name", "description", "when", "enabled", "last_run_at", "schedule_link")
    list_display_links = None
    actions = ["run_now"]
    ordering = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(task__in=SCHEDULED_JOBS).select_related("crontab", "interval")

    @admin.display(description=_("when"))
    def when(self, obj):
        if obj.crontab_id:
            return obj.crontab.human_readable
        return str(obj.interval or obj.solar or obj.clocked or "")

    @admin.display(description=_("schedule"))
    def schedule_link(self, obj):
        url = reverse("admin:django_celery_beat_periodictask_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Change the schedule"))

    @admin.action(description=_("Run the selected jobs now"), permissions=["run"])
    def run_now(self, request, queryset):
        started = []
        for job in queryset:
            try:
                run_scheduled_job(job=job, actor=request.user)
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, " ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
                return
            started.append(job.name)
        if started:
            self.message_user(request, _("Started now: %(jobs)s.") % {"jobs": ", ".join(started)}, messages.SUCCESS)

    def has_run_permission(self, request):
        return request.user.has_perm("retention.run_scheduledjob")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ScheduledJobEvent)
class ScheduledJobEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "schedule_name", "kind", "actor_label", "old", "new")
    list_filter = ("kind",)
    search_fields = ("schedule_name", "task", "actor_label")
    readonly_fields = [f.name for f in ScheduledJobEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the log of what staff did to the jobs
