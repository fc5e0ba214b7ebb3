"""The audit trail: one append-only table of every change, whichever app made it."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ActorKind(models.TextChoices):
    STAFF = "staff", _("Staff member")
    SYSTEM = "system", _("The portal (a scheduled job)")
    REQUESTER = "requester", _("Requester or account holder")


class AppendOnlyError(Exception):
    """A saved audit event was about to be changed or deleted."""


class AuditEvent(models.Model):
    """One change: who made it, to which object, which verb, the values before and after, and when."""

    created_at = models.DateTimeField(_("when"), default=timezone.now)
    actor_kind = models.CharField(_("who"), max_length=16, choices=ActorKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept as text so the row still says who it was after the account is gone: a username, a job's name,
    # or a requester's masked address.
    actor_label = models.CharField(_("by"), max_length=200, blank=True)
    content_type = models.ForeignKey(
        ContentType, verbose_name=_("kind of record"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.CharField(_("record"), max_length=64, blank=True)
    object_label = models.CharField(_("record name"), max_length=200, blank=True)
    verb = models.CharField(_("what happened"), max_length=40)
    note = models.TextField(_("details"), blank=True)
    old = models.JSONField(_("before"), null=True, blank=True, encoder=DjangoJSONEncoder)
    new = models.JSONField(_("after"), null=True, blank=True, encoder=DjangoJSONEncoder)
    # Text, not a foreign key: requests sit above this app, and the trail outlives a request's row.
    request_reference = models.CharField(_("request"), max_length=32, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        indexes = [
            models.Index(fields=["content_type", "object_id", "created_at"], name="audit_object_time"),
            models.Index(fields=["request_reference", "created_at"], name="audit_request_time"),
            # With the key, so the newest-first list (ties broken by key) reads straight off the index.
            models.Index(fields=["created_at", "id"], name="audit_time"),
            models.Index(fields=["verb", "created_at"], name="audit_verb_time"),
        ]

    def __str__(self) -> str:
        return f"{self.object_label or self.object_id}: {self.verb}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("An audit event is never changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("An audit event is never deleted one by one.")
