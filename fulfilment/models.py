"""Fulfilment's records: exports, erasure runs and their steps, account lifecycle.

The tables keep the names they had when these models lived in ``registry`` and ``retention`` (``db_table``),
so that an upgrade moved the models without copying any data.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DataExport(models.Model):
    """An access/portability export: a ZIP in private storage, built by a Celery job."""

    class State(models.TextChoices):
        PENDING = "pending", _("queued")
        RUNNING = "running", _("being prepared")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")
        EXPIRED = "expired", _("expired")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    data_request = models.ForeignKey("requests_app.DataRequest", on_delete=models.CASCADE, related_name="exports")
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    rows_total = models.PositiveBigIntegerField(default=0)
    rows_done = models.PositiveBigIntegerField(default=0)
    file_path = models.CharField(max_length=500, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    download_count = models.PositiveIntegerField(default=0)
    # Touched as rows are written: a running export with no progress for a while lost its worker (the watchdog).
    progress_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    crash_resumes = models.PositiveIntegerField(_("restarted after a worker crash"), default=0)

    class Meta:
        db_table = "registry_dataexport"
        ordering = ["-created_at"]
        verbose_name = _("data export")

    def __str__(self) -> str:
        # What the audit trail and the admin show: the request it answers, not the export's id.
        return _("Export for %(ref)s (%(state)s)") % {
            "ref": self.data_request.reference if self.data_request_id else "—",
            "state": self.get_state_display(),
        }

    @property
    def percent(self) -> int:
        if self.state == self.State.READY:
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0


class ExportDownload(models.Model):
    """Audit row for every download attempt that was served."""

    export = models.ForeignKey(DataExport, on_delete=models.CASCADE, related_name="downloads")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    via = models.CharField(max_length=20)  # "session" | "status-link"
    ip = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "registry_exportdownload"

    def __str__(self) -> str:
        via = _("from the status page link") if self.via == "status-link" else _("signed in")
        return _("Download of the export for %(ref)s, %(via)s") % {
            "ref": self.export.data_request.reference,
            "via": via,
        }


class ErasureRun(models.Model):
    """One erasure for one request: previewed, approved by a privacy officer, executed step by step."""

    class State(models.TextChoices):
        PREVIEWED = "previewed", _("awaiting approval")
        APPROVED = "approved", _("approved")
        RUNNING = "running", _("running")
        COMPLETED = "completed", _("completed")
        FAILED = "failed", _("failed")

    data_request = models.OneToOneField(
        "requests_app.DataRequest", on_delete=models.CASCADE, related_name="erasure_run"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.PREVIEWED)
    subject_user_id = models.BigIntegerField(null=True, blank=True)
    # The subject's identifiers while the run is open; replaced by pseudonyms once it completes.
    subject_emails = models.JSONField(default=list)
    preview = models.JSONField(default=dict)
    report = models.JSONField(default=dict, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the request's own name and e-mail were pseudonymised (after the completion mail went out).
    sealed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Touched as steps finish: a running erasure with no progress for a while lost its worker (the watchdog).
    progress_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    crash_resumes = models.PositiveIntegerField(_("resumed after a worker crash"), default=0)

    class Meta:
        db_table = "registry_erasurerun"
        verbose_name = _("erasure run")

    def __str__(self) -> str:
        return f"Erasure for request #{self.data_request_id} ({self.state})"


class ErasureStep(models.Model):
    """One dataset within an erasure run: the checkpoint that makes a re-run resume."""

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        DONE = "done", _("done")
        KEPT = "kept", _("kept")

    run = models.ForeignKey(ErasureRun, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    dataset = models.CharField(max_length=100)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    counts = models.JSONField(default=dict, blank=True)
    kept = models.JSONField(default=list, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "registry_erasurestep"
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "dataset"], name="erasurestep_unique_dataset")]

    def __str__(self) -> str:
        return f"{self.dataset}: {self.state}"


class FulfilmentQueue(models.Model):
    """No table: gives the staff list of verified requests to fulfil its place in the admin."""

    class Meta:
        managed = False
        verbose_name = _("request to fulfil")
        verbose_name_plural = _("requests to fulfil")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


# --- account lifecycle: inactivity notices and self-service deletion (they erase) ---


class NoticeStatus(models.TextChoices):
    WARNED = "warned", _("Warned")
    CANCELLED = "cancelled", _("Cancelled by a login")
    DELETED = "deleted", _("Account deleted")
    HELD = "held", _("Kept: legal hold")


class InactiveAccountNotice(models.Model):
    """A warning sent to an inactive account; deleted after the grace period unless the user logs in."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.WARNED)
    last_login_at_warning = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField()
    delete_after = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # The erasure request opened when the grace period ended: the registry approves a policy-driven
    # erasure only for a request linked here.
    data_request_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "retention_inactiveaccountnotice"
        ordering = ["-warned_at"]
        indexes = [models.Index(fields=["status", "delete_after"])]

    def __str__(self) -> str:
        return f"Inactivity notice {self.pk} ({self.status})"


class DeletionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")
    EXECUTED = "executed", _("Executed")
    FAILED = "failed", _("Failed")


class AccountDeletion(models.Model):
    """A self-service account deletion waiting out its grace period."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    status = models.CharField(max_length=10, choices=DeletionStatus.choices, default=DeletionStatus.SCHEDULED)
    # The erasure request lives in requests_app; kept as plain values so each app migrates on its own.
    data_request_id = models.BigIntegerField(null=True, blank=True)
    request_reference = models.CharField(max_length=40, blank=True)
    requested_at = models.DateTimeField()
    execute_after = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        db_table = "retention_accountdeletion"
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["status", "execute_after"])]

    def __str__(self) -> str:
        return f"Account deletion {self.request_reference or self.pk} ({self.status})"


# --- connected systems that answer over HTTP or through a person -----------------------------------------------


class TaskState(models.TextChoices):
    PENDING = "pending", _("not sent yet")
    SENT = "sent", _("sent")
    WAITING = "waiting", _("waiting on its answer")
    DONE = "done", _("done")
    FAILED = "failed", _("could not be done")
    SKIPPED = "skipped", _("skipped by staff")


class SystemTask(models.Model):
    """One request's work in one HTTP or manual system: a signed call, or a task mailed to the system's owner.

    The request's checklist is these rows (with the portal's own data): it completes once each is done or
    skipped with a reason.
    """

    data_request = models.ForeignKey("requests_app.DataRequest", on_delete=models.CASCADE, related_name="system_tasks")
    system_key = models.CharField(_("system"), max_length=64)
    system_name = models.CharField(_("system"), max_length=200)
    kind = models.CharField(max_length=10)  # "http" | "manual": how the task is carried out
    action = models.CharField(_("what is asked"), max_length=20)
    state = models.CharField(_("state"), max_length=10, choices=TaskState.choices, default=TaskState.PENDING)
    owner_email = models.EmailField(_("owner's e-mail"), blank=True)
    # Words staff wrote when they added the task by hand: what the owner is asked to do, beyond its action.
    instructions = models.TextField(_("what is asked, in words"), blank=True)
    # Sent with every call and callback: the system can tell a retry from a new request.
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The owner's link (manual tasks): only its hash is kept; it expires, and stops working once answered.
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    answer_note = models.TextField(_("answer"), blank=True)
    error = models.TextField(_("last problem"), blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # The owner's last reminder ("<days before>d:<due date>") and the day the officers last heard it is overdue:
    # each is sent once, however often the hourly job runs.
    reminded_key = models.CharField(max_length=40, blank=True)
    escalated_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(_("last change"), auto_now=True)

    class Meta:
        ordering = ["data_request", "system_name"]
        constraints = [
            models.UniqueConstraint(fields=["data_request", "system_key", "action"], name="systemtask_once_per_request")
        ]
        verbose_name = _("connected system task")

    def __str__(self) -> str:
        return f"{self.system_name}: {self.get_state_display()}"

    @property
    def is_settled(self) -> bool:
        return self.state in (TaskState.DONE, TaskState.SKIPPED)

    @property
    def is_overdue(self) -> bool:
        from django.utils import timezone

        return not self.is_settled and self.due_at is not None and self.due_at < timezone.now()


class SystemTaskFile(models.Model):
    """A file a system owner uploaded as their answer (kept privately, put into the requester's export)."""

    task = models.ForeignKey(SystemTask, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=200)
    path = models.CharField(max_length=500)
    size_bytes = models.PositiveBigIntegerField(default=0)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


# --- telling recipients: opt-outs, consent withdrawals, erasures and restrictions (CCPA, GDPR Art. 19) ----------


class PropagationEvent(models.TextChoices):
    OPT_OUT = "opt_out", _("opt-out of sale or sharing")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("consent withdrawn")
    RESTRICTION = "restriction", _("processing restricted")
    ERASURE = "erasure", _("data erased")


class PropagationState(models.TextChoices):
    PENDING = "pending", _("not sent yet")
    SENT = "sent", _("told, not confirmed yet")
    CONFIRMED = "confirmed", _("confirmed by the recipient")
    FAILED = "failed", _("could not be told")
    OVERDUE = "overdue", _("overdue")


class Propagation(models.Model):
    """The propagation ledger: one recipient (a connected system that receives the person's data) told of one
    event, with the legal due date of the notice and whether the recipient confirmed it.

    Made for a request, the notice is that request's connected-system task (a signed call, or the owner's task)
    and this row follows it; made for a consent choice outside any request, the row is sent itself.
    """

    event = models.CharField(_("what happened"), max_length=20, choices=PropagationEvent.choices)
    rule = models.CharField(_("legal rule"), max_length=200)
    recipient_key = models.CharField(max_length=64)
    recipient_name = models.CharField(_("recipient"), max_length=200)
    # A third party told of it; how it was told: the web service called (``system_key``) or the address mailed
    # (``contact_email``: its privacy contact, or a manual system's owner).
    vendor = models.ForeignKey(
        "consent.Vendor",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("third party"),
    )
    system_key = models.CharField(max_length=64, blank=True)
    contact_email = models.EmailField(_("told by e-mail at"), blank=True)
    # The mailed confirmation link: only its hash is kept; it expires, and stops working once used.
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    data_request = models.ForeignKey(
        "requests_app.DataRequest", null=True, blank=True, on_delete=models.CASCADE, related_name="propagations"
    )
    task = models.ForeignKey(SystemTask, null=True, blank=True, on_delete=models.SET_NULL, related_name="propagations")
    request_reference = models.CharField(_("request"), max_length=32, blank=True)
    # Whom it is about, for a notice outside a request (erasure masks these with the person's other data).
    subject_email = models.EmailField(blank=True)
    user_id = models.BigIntegerField(null=True, blank=True)
    purpose = models.CharField(_("purpose"), max_length=80, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=PropagationState.choices, default=PropagationState.PENDING
    )
    due_at = models.DateTimeField(_("due"))
    sent_at = models.DateTimeField(_("told on"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed on"), null=True, blank=True)
    error = models.TextField(_("last problem"), blank=True)
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reminded_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    changed_at = models.DateTimeField(_("last change"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "recipient_name"]
        verbose_name = _("recipient told")
        verbose_name_plural = _("recipients told")
        indexes = [models.Index(fields=["state", "due_at"])]

    def __str__(self) -> str:
        return f"{self.recipient_name}: {self.get_event_display()} ({self.get_state_display()})"

    @property
    def is_open(self) -> bool:
        return self.state in (PropagationState.PENDING, PropagationState.SENT, PropagationState.OVERDUE)
