from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class LegalHold(models.Model):
    """Data that must not be erased or expired (litigation, investigation): a subject or a whole dataset."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="legal_holds"
    )
    email = models.EmailField(_("subject e-mail"), blank=True)
    dataset = models.CharField(_("dataset (model label)"), max_length=100, blank=True, help_text="e.g. demo.TrafficLog")
    reason = models.TextField(_("reason"))
    starts_at = models.DateTimeField(_("starts"), auto_now_add=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True, help_text=_("Empty: until released."))
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("legal hold")
        constraints = [
            models.CheckConstraint(condition=~Q(user__isnull=True, email="", dataset=""), name="legalhold_has_target")
        ]

    def __str__(self) -> str:
        return f"Hold on {self.target_label()}"

    def target_label(self) -> str:
        if self.dataset:
            return self.dataset
        return self.email or (f"user #{self.user_id}" if self.user_id else "?")


class ProcessingRestriction(models.Model):
    """A subject's restriction of processing (Art. 18) or objection to a purpose (Art. 21)."""

    class Kind(models.TextChoices):
        RESTRICTION = "restriction", _("restriction (storage only)")
        OBJECTION = "objection", _("objection")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="processing_restrictions",
    )
    email = models.EmailField(blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    purposes = models.JSONField(default=list, blank=True, help_text=_("Objection: purposes objected to."))
    reason = models.TextField(blank=True)
    request_reference = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    lift_notified_at = models.DateTimeField(null=True, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("processing restriction")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.email or self.user_id}"


class RecordOfProcessing(models.Model):
    """No table: gives the generated record of processing (Art. 30) its place in the admin."""

    class Meta:
        managed = False
        verbose_name = _("record of processing (Art. 30)")
        verbose_name_plural = _("record of processing (Art. 30)")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class ProcessingActivity(models.Model):
    """A privacy officer's wording of one processing activity in the record of processing (Art. 30).

    Activities are declared in code, grouped by purpose; a row here completes or overrides the declared
    texts (an empty text keeps the declared one), or adds an activity that no declaration names.
    """

    purpose = models.CharField(
        _("purpose"), max_length=200, unique=True, help_text=_("The declared purpose it describes, or a new one.")
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    data_categories = models.TextField(_("categories of personal data"), blank=True)
    data_subjects = models.TextField(_("categories of data subjects"), blank=True)
    recipients = models.TextField(_("recipients"), blank=True)
    # [{"recipient": ..., "country": ..., "safeguard": ...}]: transfers outside the EEA with their safeguard.
    transfers = models.JSONField(_("transfers to third countries"), default=list, blank=True)
    retention_note = models.TextField(_("retention"), blank=True)
    security_measures = models.TextField(_("security measures"), blank=True)
    officer_added = models.BooleanField(_("added by a privacy officer"), default=False)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)

    class Meta:
        ordering = ["purpose"]
        verbose_name = _("processing activity")
        verbose_name_plural = _("processing activities")

    def __str__(self) -> str:
        return self.name or self.purpose
