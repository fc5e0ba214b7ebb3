"""Data-subject requests: the request itself, its verification tokens, audit trail, messages, notes and files.

State changes go through ``requests_app.services``; nothing here changes a status on its own.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Access: a copy of my data")
    PORTABILITY = "portability", _("Portability: my data in a reusable format")
    RECTIFICATION = "rectification", _("Rectification: correct my data")
    ERASURE = "erasure", _("Erasure: delete my data or close my account")
    RESTRICTION = "restriction", _("Restriction: pause the use of my data")
    OBJECTION = "objection", _("Objection: stop a use of my data, e.g. direct marketing")
    OPT_OUT = "opt_out", _("Opt out of the sale or sharing of my data")
    WITHDRAW_CONSENT = "withdraw_consent", _("Withdraw a consent I gave")
    COMPLAINT = "complaint", _("Complaint about how my data is handled")


class RequestStatus(models.TextChoices):
    AWAITING_VERIFICATION = "awaiting_verification", _("Awaiting verification")
    VERIFIED = "verified", _("Verified")
    IN_PROGRESS = "in_progress", _("In progress")
    AWAITING_REQUESTER = "awaiting_requester", _("Awaiting requester")
    COMPLETED = "completed", _("Completed")
    DENIED = "denied", _("Denied")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


# The labels above are for staff (admin, audit trail, staff mails); the requester reads these instead.
REQUESTER_STATUS_LABELS = {RequestStatus.AWAITING_REQUESTER: _("Awaiting your reply")}


def requester_status_label(status: str) -> str:
    """The status as the requester reads it on their pages."""
    if status in REQUESTER_STATUS_LABELS:
        return REQUESTER_STATUS_LABELS[status]
    return RequestStatus(status).label if status in RequestStatus.values else status


OPEN_STATUSES = (
    RequestStatus.AWAITING_VERIFICATION,
    RequestStatus.VERIFIED,
    RequestStatus.IN_PROGRESS,
    RequestStatus.AWAITING_REQUESTER,
)
CLOSED_STATUSES = (RequestStatus.COMPLETED, RequestStatus.DENIED, RequestStatus.WITHDRAWN, RequestStatus.EXPIRED)


class Jurisdiction(models.TextChoices):
    GDPR = "gdpr", _("European Union / EEA (GDPR)")
    UK_GDPR = "uk_gdpr", _("United Kingdom (UK GDPR)")
    CCPA = "ccpa", _("California (CCPA/CPRA)")
    LGPD = "lgpd", _("Brazil (LGPD)")
    OTHER = "other", _("Elsewhere")


class Relationship(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    VISITOR = "visitor", _("Website visitor")
    EMPLOYEE = "employee", _("Employee")
    OTHER = "other", _("Other")


class Channel(models.TextChoices):
    WEB_FORM = "web_form", _("Web form")
    ACCOUNT = "account", _("Account (self-service)")
    EMAIL = "email", _("E-mail")
    POST = "post", _("Post")
    PHONE = "phone", _("Phone")


class DenialReason(models.TextChoices):
    IDENTITY_NOT_VERIFIED = "identity_not_verified", _("Identity not verified")
    MANIFESTLY_UNFOUNDED = "manifestly_unfounded", _("Manifestly unfounded or excessive (GDPR Art. 12(5))")
    LEGAL_EXCEPTION = "legal_exception", _("A legal exception applies")
    NOT_OUR_DATA = "not_our_data", _("We hold no data about you")


class DataRequest(models.Model):
    """One data-subject request, from intake to closure."""

    reference = models.CharField(_("reference"), max_length=32, unique=True)
    kind = models.CharField(_("type"), max_length=32, choices=RequestKind.choices)
    status = models.CharField(
        _("status"), max_length=32, choices=RequestStatus.choices, default=RequestStatus.AWAITING_VERIFICATION
    )
    requester_name = models.CharField(_("name"), max_length=200)
    requester_email = models.EmailField(_("e-mail"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="data_requests",
    )
    relationship = models.CharField(
        _("relationship"), max_length=20, choices=Relationship.choices, default=Relationship.CUSTOMER
    )
    jurisdiction = models.CharField(_("jurisdiction"), max_length=20, choices=Jurisdiction.choices)
    details = models.TextField(_("details"), blank=True)
    channel = models.CharField(_("made through"), max_length=20, choices=Channel.choices, default=Channel.WEB_FORM)
    language = models.CharField(_("language"), max_length=10, default="en")

    received_at = models.DateTimeField(_("received"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    original_due_at = models.DateTimeField(_("original due date"), null=True, blank=True)
    acknowledge_by = models.DateField(_("acknowledge by"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When we last asked the requester to prove who they are: at intake, or when staff ask an unverified
    # requester for more. The verification window counts from here, never from the (back-datable) receipt.
    verification_requested_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_data_requests",
        limit_choices_to={"is_staff": True},
    )
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)

    extended_at = models.DateTimeField(_("extended"), null=True, blank=True)
    extension_reason = models.TextField(_("extension reason"), blank=True)
    denial_reason = models.CharField(_("denial reason"), max_length=40, choices=DenialReason.choices, blank=True)
    denial_text = models.TextField(_("text for the requester"), blank=True)
    completion_summary = models.TextField(_("completion summary"), blank=True)
    # A repeat submission, once its sender proved who they are, is folded into the same person's open
    # request of the same type: it is then withdrawn and points here (never counted twice).
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("added to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="linked_submissions",
    )
    # Rotating this nonce revokes every secret status link sent so far.
    status_nonce = models.CharField(max_length=32, blank=True)
    # Set when the request was verified by the e-mail link alone and its kind releases data or changes
    # processing: fulfilment then waits until a staff member approves it (see ``services.approve_release``).
    release_approval_required = models.BooleanField(_("needs staff approval"), default=False)
    release_approved_at = models.DateTimeField(_("approved for release"), null=True, blank=True)
    release_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The request's own audit events are part of its record: they go with it when retention deletes it
    # (24 months after closing), as the request trail always did. Never used to query across.
    audit_events = GenericRelation("audit.AuditEvent", content_type_field="content_type", object_id_field="object_id")

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        permissions = [
            ("approve_release", _("Can approve a request confirmed only by e-mail before it is carried out")),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["requester_email", "kind"]),
            # The queue's order over every status, and the received-date ranges (migration 0007 says why).
            models.Index(fields=["due_at", "id"], name="request_due_id"),
            models.Index(fields=["received_at"], name="request_received"),
            # The request figures' job finds the requests changed since its last run (migration 0009).
            models.Index(fields=["updated_at"], name="request_updated"),
            # The default queue, open requests most urgent first (migration 0008 says why).
            models.Index(
                fields=["due_at", "id"], name="request_open_due_id", condition=models.Q(status__in=OPEN_STATUSES)
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("requests_app:detail", kwargs={"reference": self.reference})

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def awaits_release_approval(self) -> bool:
        """Verified by e-mail alone, open, and not yet approved by staff: nothing is released or applied."""
        return self.release_approval_required and self.release_approved_at is None and self.is_open

    @property
    def requester_status_display(self) -> str:
        return requester_status_label(self.status)

    @property
    def due_date(self):
        return timezone.localtime(self.due_at).date()

    @property
    def events(self):
        """The request's audit trail (``audit.AuditEvent`` rows under its reference), oldest first."""
        from audit.selectors import list_request_events

        return list_request_events(reference=self.reference)

    @property
    def received_date(self):
        return timezone.localtime(self.received_at).date()


class VerificationToken(models.Model):
    """A single-use e-mail verification link: the selector is looked up, the verifier is kept only hashed."""

    data_request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="verification_tokens")
    selector = models.CharField(max_length=24, unique=True)
    verifier_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("verification token")

    def __str__(self) -> str:
        return f"{self.data_request_id}:{self.selector}"


class EventKind(models.TextChoices):
    CREATED = "created", _("Received")
    STATUS = "status", _("Status changed")
    LINKED = "linked", _("Repeated submission linked")
    ASSIGNED = "assigned", _("Assigned")
    EXTENDED = "extended", _("Deadline extended")
    MESSAGE = "message", _("Message")
    NOTE = "note", _("Internal note")
    FILE = "file", _("File added")
    VERIFICATION_SENT = "verification_sent", _("Verification link sent")
    VERIFICATION_FAILED = "verification_failed", _("Verification attempt failed")
    REMINDER = "reminder", _("Reminder sent")
    FULFILMENT = "fulfilment", _("Fulfilment")
    APPROVAL = "approval", _("Staff approval")


# Events the requester may see on the status page; the rest are staff-only.
PUBLIC_EVENT_KINDS = {EventKind.CREATED, EventKind.STATUS, EventKind.EXTENDED, EventKind.LINKED, EventKind.FILE}


class RequestEvent(models.Model):
    """The request trail as it was before the portal's one audit trail: no longer written.

    Migration 0006 moved its rows into ``audit.AuditEvent``. The table stays until nothing reads it.
    """

    data_request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="legacy_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=32)
    old = models.CharField(max_length=200, blank=True)
    new = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("event")

    def __str__(self) -> str:
        return f"{self.kind}: {self.old} → {self.new}"

    @property
    def is_public(self) -> bool:
        return self.kind in PUBLIC_EVENT_KINDS


class RequestMessage(models.Model):
    """A message between the requester and staff, shown on the status page."""

    data_request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_staff = models.BooleanField(default=False)
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("message")

    def __str__(self) -> str:
        return self.body[:60]


class InternalNote(models.Model):
    """A note for staff only; never shown to the requester."""

    data_request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(_("note"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("internal note")

    def __str__(self) -> str:
        return self.body[:60]


def _file_path(instance, filename: str) -> str:
    return f"requests/{instance.data_request.reference}/{instance.purpose}/{filename}"


class FilePurpose(models.TextChoices):
    ATTACHMENT = "attachment", _("Attachment from the requester")
    RESULT = "result", _("Result for the requester")


class RequestFile(models.Model):
    """A file in private storage: the requester's attachment or a result file; served only through checked views."""

    data_request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="files")
    purpose = models.CharField(max_length=16, choices=FilePurpose.choices)
    file = models.FileField(upload_to=_file_path, max_length=300)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("file")

    def __str__(self) -> str:
        return self.name


class SentReminder(models.Model):
    """What a reminder job has already sent, so that running it again sends nothing twice."""

    data_request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="sent_reminders")
    kind = models.CharField(max_length=32)
    key = models.CharField(max_length=64)
    recipient = models.EmailField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["data_request", "kind", "key", "recipient"], name="dsr_reminder_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} → {self.recipient}"


class RequestMonthlyFigures(models.Model):
    """How many requests came in per month (organisation's time zone), type, law and status, and how fast.

    A roll-up kept by ``services.summarise_requests``: the metrics page reads these few hundred rows, never
    the requests. The days each answer took are kept as a histogram in tenths of a day, so medians are exact
    to the tenth the page shows and can be merged across months, types and laws.
    """

    month = models.DateField(_("month"))
    kind = models.CharField(_("type"), max_length=32, choices=RequestKind.choices)
    jurisdiction = models.CharField(_("jurisdiction"), max_length=20, choices=Jurisdiction.choices)
    status = models.CharField(_("status"), max_length=32, choices=RequestStatus.choices)
    received = models.PositiveIntegerField(_("received"), default=0)
    answered = models.PositiveIntegerField(_("answered"), default=0)
    on_time = models.PositiveIntegerField(_("answered on time"), default=0)
    days_total = models.FloatField(_("days to answer, in all"), default=0.0)
    days_tenths = models.JSONField(_("days to answer, in tenths of a day"), default=dict)

    class Meta:
        ordering = ["month", "kind", "jurisdiction", "status"]
        verbose_name = _("monthly request figures")
        verbose_name_plural = _("monthly request figures")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "kind", "jurisdiction", "status"], name="request_monthly_figures_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.kind} {self.jurisdiction} {self.status}: {self.received}"


class RequestFiguresState(models.Model):
    """When the request figures were last brought up to date (the metrics page's "as of")."""

    key = models.CharField(max_length=40, unique=True, default="requests")
    summarised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("request figures state")

    def __str__(self) -> str:
        return f"{self.key}: {self.summarised_at}"
