from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import PeriodicTaskAdmin, PeriodicTaskForm
from django_celery_beat.models import PeriodicTask

from audit.admin import AuditTrailAdminMixin
from privacyportal.celery import SCHEDULED_JOBS, may_run_on_schedule
from retention import selectors
from retention.models import (
    RetentionPolicy,
    RetentionRun,
    RunStatus,
    ScheduledJob,
    ScheduledJobEvent,
)
from retention.services import (
    delete_retention_policy,
    record_schedule_change,
    run_retention_policy,
    run_scheduled_job,
    save_retention_policy,
    switch_scheduled_jobs,
)


def _dataset_field_choices(current: str = "") -> list:
    """Registered datasets by their title; other tables (by name) after them, so any model stays possible."""
    from django.apps import apps

    registered = selectors.dataset_choices()
    known = {label.lower() for label, _title in registered}
    others = sorted(
        (
            (m._meta.label, f"{capfirst(m._meta.verbose_name_plural)} ({capfirst(m._meta.app_config.verbose_name)})")
            for m in apps.get_models()
            if m._meta.label.lower() not in known
        ),
        key=lambda c: c[1],
    )
    choices = [("", "---------"), (_("Registered datasets"), registered), (_("Other tables"), others)]
    if current and current.lower() not in known and all(label != current for label, _t in others):
        choices.append((current, current))  # a label stored before its model went away: shown so it can be fixed
    return choices


class RetentionPolicyForm(forms.ModelForm):
    """A policy's dataset is picked by its title; the field paths stay as stored, with words beside them."""

    dataset = forms.ChoiceField(label=_("Dataset"), choices=())

    class Meta:
        model = RetentionPolicy
        fields = (
            "name", "description", "dataset", "enabled", "period", "period_unit", "date_field", "filters", "action",
            "fields", "legal_basis",
        )  # fmt: skip
        labels = {"date_field": _("Counted from (field)")}
        help_texts = {
            "date_field": _(
                "The date the period is counted from: a date field of the dataset, or of a record it belongs to "
                "(the conversation's closing date for a message, say). Shown in words below once saved."
            ),
            "filters": _("Only rows that match these values, as field names and values; leave empty for all rows."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].choices = _dataset_field_choices(self.initial.get("dataset") or "")


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    form = RetentionPolicyForm
    change_form_template = "admin/retention/retentionpolicy/change_form.html"

    class Media:
        css = {"all": ("retention/retention-admin.css",)}
        js = ("retention/retention-run.js",)

    list_display = (
        "name", "dataset_display", "period_display", "counted_from", "action", "enabled", "source", "customised",
    )  # fmt: skip
    list_filter = ("enabled", "action", "source", "customised")
    search_fields = ("name", "dataset", "description", "legal_basis")
    readonly_fields = ("counted_from", "source", "customised", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "description", "dataset", "enabled")}),
        (_("Period"), {"fields": ("period", "period_unit", "date_field", "counted_from", "filters")}),
        (_("Action"), {"fields": ("action", "fields", "legal_basis")}),
        (_("Origin"), {"fields": ("source", "customised", "created_at", "updated_at")}),
    )

    @admin.display(description=_("period"))
    def period_display(self, obj):
        return obj.period_display

    @admin.display(description=_("dataset"), ordering="dataset")
    def dataset_display(self, obj):
        return selectors.dataset_title(obj.dataset)

    @admin.display(description=_("counted from"), ordering="date_field")
    def counted_from(self, obj):
        if not obj or not obj.date_field:
            return "—"
        return selectors.field_path_words(obj.dataset, obj.date_field)

    def get_urls(self):
        run = self.admin_site.admin_view(self.run_view)
        return [
            path("<path:object_id>/run/", run, name="retention_retentionpolicy_run"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_dry_run": request.user.has_perm("retention.view_retentionpolicy"),
            "may_run": request.user.has_perm("retention.change_retentionpolicy"),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def run_view(self, request, object_id):
        """POST: a dry run or a real run of this policy now, then its one run report."""
        policy = self.get_object(request, object_id)
        if request.method != "POST" or policy is None:
            return HttpResponseRedirect(reverse("admin:retention_retentionpolicy_changelist"))
        dry_run = request.POST.get("mode") != "run"
        back = reverse("admin:retention_retentionpolicy_change", args=[policy.pk])
        try:
            run = run_retention_policy(policy=policy, dry_run=dry_run, actor=request.user)
        except PermissionDenied:
            raise
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.WARNING)
            return HttpResponseRedirect(back)
        report = reverse("admin:retention_retentionrun_change", args=[run.pk])
        self.message_user(
            request,
            format_html(
                '{} <a href="{}">{}</a>',
                selectors.run_summary(run),
                report,
                _("Read the run report"),
            ),
            messages.SUCCESS if run.status == RunStatus.COMPLETED else messages.WARNING,
        )
        return HttpResponseRedirect(report)

    def save_model(self, request, obj, form, change):
        save_retention_policy(policy=obj, actor=request.user)

    def delete_model(self, request, obj):
        delete_retention_policy(policy=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for policy in queryset:
            delete_retention_policy(policy=policy, actor=request.user)


@admin.register(RetentionRun)
class RetentionRunAdmin(AuditTrailAdminMixin, admin.ModelAdmin):
    """A run report, read by staff: what would go or went, what was held, in words and local times."""

    list_display = ("title", "started", "kind", "status", "trigger_display", "totals")
    list_display_links = ("title",)
    list_filter = ("status", "dry_run", "trigger")
    fieldsets = (
        (None, {"fields": ("kind", "status", "trigger_display", "only", "started", "finished", "counted_from_moment")}),
        (_("What each policy did"), {"fields": ("report",)}),
        (_("Problems"), {"fields": ("error_display",)}),
    )
    readonly_fields = (
        "kind", "status", "trigger_display", "only", "started", "finished", "counted_from_moment", "report",
        "error_display",
    )  # fmt: skip
    date_hierarchy = "started_at"

    class Media:
        css = {"all": ("retention/retention-admin.css",)}

    @admin.display(description=_("run"))
    def title(self, obj):
        return str(obj)

    @admin.display(description=_("started"), ordering="started_at")
    def started(self, obj):
        return selectors.local_time_text(obj.started_at)

    @admin.display(description=_("finished"), ordering="finished_at")
    def finished(self, obj):
        return selectors.local_time_text(obj.finished_at)

    @admin.display(description=_("cut-offs counted from"))
    def counted_from_moment(self, obj):
        return selectors.local_time_text(obj.now)

    @admin.display(description=_("kind"), ordering="dry_run")
    def kind(self, obj):
        return _("Dry run: counted, nothing changed") if obj.dry_run else _("Enforced")

    @admin.display(description=_("started by"), ordering="trigger")
    def trigger_display(self, obj):
        return selectors.trigger_label(obj.trigger)

    @admin.display(description=_("policy"))
    def only(self, obj):
        return obj.only_policy or _("Every enabled policy")

    @admin.display(description=_("errors"))
    def error_display(self, obj):
        return obj.error or _("None")

    TOTALS = ("matched", "deleted", "modified", "skipped_hold")

    def get_queryset(self, request):
        # The list's totals in the same query as its rows (one query per run made the list grow with its page).
        qs = super().get_queryset(request)
        return qs.annotate(**{f"total_{f}": Coalesce(Sum(f"items__{f}"), 0) for f in self.TOTALS})

    @admin.display(description=_("matched / deleted / modified / held"))
    def totals(self, obj):
        return " / ".join(str(getattr(obj, f"total_{f}")) for f in self.TOTALS)

    @admin.display(description=_("report"))
    def report(self, obj):
        rows = selectors.run_report_rows(obj)
        return render_to_string("admin/retention/run_report.html", {"rows": rows, "run": obj})

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
