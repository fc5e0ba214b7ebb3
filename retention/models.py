from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_celery_beat.models import PeriodicTask

# The one list of retention actions; retention's code keeps importing RetentionAction from here.
from core.retention_actions import FIELD_ACTIONS, RetentionAction


class PeriodUnit(models.TextChoices):
    DAYS = "days", _("days")
    MONTHS = "months", _("months")


class PolicySource(models.TextChoices):
    REGISTRY = "registry", _("Registry rule")
    BUILTIN = "builtin", _("Built-in default")
    STAFF = "staff", _("Created by staff")


class RetentionPolicy(models.Model):
    """How long one dataset's rows are kept, counted from which date, and what happens then."""

    name = models.SlugField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    dataset = models.CharField(_("dataset (model label)"), max_length=100, help_text=_("e.g. demo.TrafficLog"))
    period = models.PositiveIntegerField(_("period"))
    period_unit = models.CharField(_("period unit"), max_length=10, choices=PeriodUnit.choices, default=PeriodUnit.DAYS)
    date_field = models.CharField(
        _("counted from"),
        max_length=200,
        help_text=_("A date field or an event's field path, e.g. created_at or conversation__closed_at."),
    )
    filters = models.JSONField(_("extra filters"), default=dict, blank=True, help_text=_('e.g. {"status": "closed"}'))
    action = models.CharField(_("action"), max_length=20, choices=RetentionAction.choices)
    fields = models.JSONField(_("fields"), default=list, blank=True, help_text=_("For clear, mask and pseudonymise."))
    legal_basis = models.TextField(_("legal basis"), blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    source = models.CharField(max_length=10, choices=PolicySource.choices, default=PolicySource.STAFF)
    # Set when staff change a seeded policy, so re-seeding never overwrites their edit.
    customised = models.BooleanField(_("edited by staff"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("retention policy")
        verbose_name_plural = _("retention policies")

    def __str__(self) -> str:
        return self.name

    def clean(self):
        """Refuse, when staff save it, a policy the nightly run could not apply."""
        from django.apps import apps
        from django.core.exceptions import ValidationError

        from retention.enforcement import resolve_field

        try:
            model = apps.get_model(self.dataset)
        except (LookupError, ValueError):
            raise ValidationError({"dataset": _("No such dataset: give a model label such as demo.TrafficLog.")})
        errors = {}
        try:
            date = resolve_field(model, self.date_field)
            if not isinstance(date, models.DateField):
                errors["date_field"] = _("This is not a date or date-and-time field.")
        except ValueError:
            errors["date_field"] = _("This dataset has no such field.")
        if not isinstance(self.filters, dict) or any(
            not isinstance(k, str) or not _resolves(model, k.split("__")[0]) for k in self.filters
        ):
            errors["filters"] = _('Give filters as {"field": value} on fields of this dataset.')
        names = self.fields if isinstance(self.fields, list) else None
        if self.action in FIELD_ACTIONS:
            if not names:
                errors["fields"] = _("Name the fields to clear, mask or pseudonymise.")
            else:
                for name in names:
                    field = _concrete_field(model, name)
                    if field is None:
                        errors["fields"] = _("%(name)s is not a field of this dataset.") % {"name": name}
                    elif self.action == RetentionAction.NULL and not field.null:
                        errors["fields"] = _("%(name)s cannot be empty, so it cannot be cleared.") % {"name": name}
        elif names:
            errors["fields"] = _("Fields are used only to clear, mask or pseudonymise.")
        is_account = model._meta.label == settings.AUTH_USER_MODEL
        if is_account and self.action != RetentionAction.ACCOUNT_FLOW:
            # Accounts go through the warned, audited erasure, never a bulk action on the table.
            errors["action"] = _("Accounts are handled only by the warn-then-delete flow.")
        elif not is_account and self.action == RetentionAction.ACCOUNT_FLOW:
            errors["action"] = _("The warn-then-delete flow applies to accounts only.")
        if errors:
            raise ValidationError(errors)

    @property
    def period_display(self) -> str:
        if self.period_unit == PeriodUnit.MONTHS and self.period and self.period % 12 == 0:
            years = self.period // 12
            return ngettext("%(n)d year", "%(n)d years", years) % {"n": years}
        if self.period_unit == PeriodUnit.MONTHS:
            return ngettext("%(n)d month", "%(n)d months", self.period) % {"n": self.period}
        return ngettext("%(n)d day", "%(n)d days", self.period) % {"n": self.period}

    @staticmethod
    def audit_value_fields() -> dict:
        """Fields the policy's trail borrows labels from: each run records its counts and status on the policy."""
        names = ("status", "matched", "deleted", "modified", "skipped_hold")
        return {n: RetentionRunItem._meta.get_field(n) for n in names}


def _resolves(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except Exception:
        return False
    return True


def _concrete_field(model, name: str):
    try:
        field = model._meta.get_field(name)
    except Exception:
        return None
    return field if getattr(field, "concrete", False) and not field.primary_key else None


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Completed with errors")
    INTERRUPTED = "interrupted", _("Interrupted (will resume)")


class RetentionRun(models.Model):
    """One enforcement run: its report, and the checkpoint a crashed run resumes from."""

    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.RUNNING)
    dry_run = models.BooleanField(default=False)
    trigger = models.CharField(max_length=20, default="command")
    only_policy = models.CharField(max_length=100, blank=True)
    now = models.DateTimeField(help_text=_("The moment cut-offs are counted from."))
    resumed_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")

    def __str__(self) -> str:
        # In the organisation's time zone and the admin's one format, like every time beside it.
        from django.utils.formats import date_format
        from django.utils.timezone import localtime

        started = date_format(localtime(self.started_at), "DATETIME_FORMAT") if self.started_at else ""
        if self.dry_run:
            return _("Dry run %(n)s, %(at)s") % {"n": self.pk, "at": started}
        return _("Run %(n)s, %(at)s") % {"n": self.pk, "at": started}


class ItemStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    HELD = "held", _("Skipped: dataset on legal hold")


class RetentionRunItem(models.Model):
    """Per policy in a run: counts, duration, errors and the last primary key done."""

    run = models.ForeignKey(RetentionRun, on_delete=models.CASCADE, related_name="items")
    policy = models.ForeignKey(RetentionPolicy, on_delete=models.SET_NULL, null=True, blank=True)
    policy_name = models.CharField(max_length=100)
    dataset = models.CharField(max_length=100)
    action = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    cutoff = models.DateTimeField(null=True, blank=True)
    last_pk = models.CharField(max_length=64, blank=True)
    total = models.BigIntegerField(default=0, help_text=_("Rows matching when the policy started."))
    matched = models.BigIntegerField(default=0)
    deleted = models.BigIntegerField(default=0)
    modified = models.BigIntegerField(default=0)
    skipped_hold = models.BigIntegerField(_("skipped for a hold"), default=0)
    batches = models.PositiveIntegerField(default=0)
    duration_seconds = models.FloatField(default=0)
    errors = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "pk"]
        constraints = [models.UniqueConstraint(fields=["run", "policy_name"], name="retention_item_once_per_run")]

    def __str__(self) -> str:
        return f"{self.policy_name} in run {self.run_id}"


class SweepSample(models.Model):
    """A plain dataset for measuring and checking the enforcement engine (bench/retention_sweep.py, tests)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    email = models.EmailField(blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "sweep sample"

    def __str__(self) -> str:
        return f"Sample {self.pk}"


class RunLease(models.Model):
    """The enforcement lock on databases without advisory locks (the embedded SQLite default).

    One row while a run holds the lock; the run renews ``expires_at`` as it goes, so a crashed
    run's lease simply runs out and the next run takes over.
    """

    name = models.CharField(max_length=100, unique=True)
    token = models.CharField(max_length=32)
    holder = models.CharField(max_length=200, blank=True, help_text=_("host and process id"))
    acquired_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("run lease")

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder} until {self.expires_at:%Y-%m-%d %H:%M:%S}"


class ScheduledJob(PeriodicTask):
    """One of the portal's scheduled jobs, as staff see it: what it does, when it runs, "Run now"."""

    class Meta:
        proxy = True
        verbose_name = _("scheduled job")
        verbose_name_plural = _("scheduled jobs")
        # Read and run only: the schedule itself is changed on the periodic task's page, within limits.
        default_permissions = ("view",)
        permissions = [("run_scheduledjob", _("Can run a scheduled job now"))]


class JobEventKind(models.TextChoices):
    RUN_NOW = "run_now", _("Run now by staff")
    SCHEDULE_CHANGED = "schedule_changed", _("Schedule changed")


class ScheduledJobEvent(models.Model):
    """Append-only log of what staff did to the scheduled jobs: who, which job, what, old and new."""

    task = models.CharField(_("job"), max_length=200)
    schedule_name = models.CharField(_("schedule"), max_length=200, blank=True)
    kind = models.CharField(_("what"), max_length=20, choices=JobEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(_("by"), max_length=200, blank=True)
    old = models.TextField(_("before"), blank=True)
    new = models.TextField(_("after"), blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("scheduled job event")
        verbose_name_plural = _("scheduled job log")

    def __str__(self) -> str:
        return f"{self.schedule_name or self.task}: {self.get_kind_display()}"


class RetentionVerb(models.TextChoices):
    """What retention's services write to the audit trail."""

    CREATED = "created", _("Created")
    CHANGED = "changed", _("Changed")
    DELETED = "deleted", _("Deleted")
    ENFORCED = "enforced", _("Enforced by a retention run")
    RUN_FINISHED = "run_finished", _("Retention run finished")
