from django.db import models
from django.utils.translation import gettext_lazy as _


class HttpsURLField(models.URLField):
    """A URL field whose form adds https:// to a bare host name (Django 6's default, chosen now)."""

    def formfield(self, **kwargs):
        return super().formfield(**{"assume_scheme": "https", **kwargs})


class Organisation(models.Model):
    """The controller: who runs the websites and answers for the data (one row, edited by staff)."""

    name = models.CharField(_("name"), max_length=200, default="Example Organisation")
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    postal_address = models.TextField(_("postal address"), blank=True)
    contact_email = models.EmailField(_("privacy contact e-mail"), default="privacy@example.com")
    dpo_name = models.CharField(_("data-protection officer"), max_length=200, blank=True)
    dpo_email = models.EmailField(_("data-protection officer e-mail"), blank=True)
    supervisory_authority_name = models.CharField(_("supervisory authority"), max_length=200, blank=True)
    supervisory_authority_url = HttpsURLField(_("supervisory authority website"), blank=True)
    supervisory_authority_email = models.EmailField(_("supervisory authority e-mail"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisation")

    def __str__(self) -> str:
        return self.name
