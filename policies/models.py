"""Versioned legal documents (privacy policy, cookie policy, terms), acceptances and change notices.

A version moves ``draft -> scheduled -> in_force -> superseded`` (or straight from draft to
in force when it takes effect at once); ``policies.services`` owns every transition.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    PRIVACY = "privacy", _("Privacy policy")
    COOKIES = "cookies", _("Cookie policy")
    TERMS = "terms", _("Terms of use")


# Where each document is read; the privacy policy owns /privacy/ itself.
DOCUMENT_URL_NAMES = {
    DocumentKind.PRIVACY: "policies:privacy",
    DocumentKind.COOKIES: "policies:cookie_policy",
    DocumentKind.TERMS: "policies:terms",
}


class PolicyDocument(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices, unique=True)
    title = models.CharField(_("title"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("policy document")
        verbose_name_plural = _("policy documents")
        ordering = ["kind"]

    def __str__(self) -> str:
        return str(self.title)  # a fresh default title is still a lazy translation

    def get_absolute_url(self) -> str:
        return reverse(DOCUMENT_URL_NAMES[DocumentKind(self.kind)])


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    IN_FORCE = "in_force", _("In force")
    SUPERSEDED = "superseded", _("Superseded")


class PolicyVersion(models.Model):
    document = models.ForeignKey(PolicyDocument, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"), editable=False)
    summary = models.TextField(
        _("summary of changes"), blank=True, help_text=_("Plain words: what changed and why. Shown in notices.")
    )
    body = models.TextField(_("text (Markdown)"))
    is_material = models.BooleanField(
        _("material change"),
        default=False,
        help_text=_("Reduces rights or changes how data is used: account holders are e-mailed and must accept it."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT, editable=False
    )
    effective_at = models.DateTimeField(
        _("takes effect"), null=True, blank=True, help_text=_("Empty: at once when published.")
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    superseded_at = models.DateTimeField(_("superseded"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        ordering = ["document", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="policies_version_number_unique"),
            # At most one version of a document is in force at a time.
            models.UniqueConstraint(
                fields=["document"], condition=Q(status="in_force"), name="policies_one_in_force_per_document"
            ),
        ]
        indexes = [models.Index(fields=["status", "effective_at"])]

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("policies:version", kwargs={"kind": self.document.kind, "number": self.number})

    @property
    def is_published(self) -> bool:
        return self.status != VersionStatus.DRAFT

    @property
    def events(self):
        """The version's audit trail, oldest first."""
        from audit.selectors import list_object_events

        return list_object_events(obj=self)


class PolicyAcceptance(models.Model):
    """An account holder's explicit acceptance of one version: the proof of consent to a material change."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="policy_acceptances")
    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(_("accepted at"))
    ip = models.GenericIPAddressField(_("IP address (truncated)"), null=True, blank=True)

    class Meta:
        verbose_name = _("policy acceptance")
        verbose_name_plural = _("policy acceptances")
        ordering = ["-accepted_at"]
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="policies_accept_once")]

    def __str__(self) -> str:
        return f"{self.user} accepted {self.version}"


class PolicyEvent(models.Model):
    """A version's trail as it was before the portal's one audit trail: no longer written.

    Migration 0002 moved its rows into ``audit.AuditEvent``; ``Kind`` stays the verbs policies' services write.
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        EDITED = "edited", _("Edited")
        SCHEDULED = "scheduled", _("Scheduled")
        IN_FORCE = "in_force", _("Came into force")
        SUPERSEDED = "superseded", _("Superseded")
        UNSCHEDULED = "unscheduled", _("Back to draft")
        DELETED = "deleted", _("Draft deleted")
        NOTICE_QUEUED = "notice_queued", _("Change notice queued")
        NOTICE_DONE = "notice_done", _("Change notice sent")
        ACCEPTED = "accepted", _("Accepted")

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="legacy_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    old_status = models.CharField(max_length=20, blank=True)
    new_status = models.CharField(max_length=20, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("policy event")
        verbose_name_plural = _("policy events")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.version}: {self.get_kind_display()}"


class ChangeNotice(models.Model):
    """The e-mail campaign that tells account holders about a material change, with its progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        DONE = "done", _("Done")

    version = models.OneToOneField(PolicyVersion, on_delete=models.CASCADE, related_name="notice")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    batch_size = models.PositiveIntegerField()
    total = models.PositiveIntegerField(_("recipients"), default=0)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    batches = models.PositiveIntegerField(_("batches run"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("change notice")
        verbose_name_plural = _("change notices")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Notice for {self.version}"


class NoticeDelivery(models.Model):
    """One recipient of one notice; the unique constraint is what makes sending idempotent."""

    class Status(models.TextChoices):
        CLAIMED = "claimed", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    notice = models.ForeignKey(ChangeNotice, on_delete=models.CASCADE, related_name="deliveries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CLAIMED)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notice delivery")
        verbose_name_plural = _("notice deliveries")
        constraints = [models.UniqueConstraint(fields=["notice", "user"], name="policies_one_notice_per_user")]

    def __str__(self) -> str:
        return f"{self.notice} -> {self.user}"
