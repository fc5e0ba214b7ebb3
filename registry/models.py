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
