"""Consent: websites (properties), cookie categories and declarations, the proof-of-consent log, purpose consents."""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core.languages import BASE_LANGUAGE, language_codes
from core.models import HttpsURLField

LANGS = language_codes()


def pick_language(texts: dict, language: str | None = None) -> str:
    """The text in the active language, else the base language (English), else any."""
    texts = texts or {}
    lang = (language or translation.get_language() or BASE_LANGUAGE)[:2]
    return texts.get(lang) or texts.get(BASE_LANGUAGE) or next(iter(texts.values()), "")


def new_property_key() -> str:
    return secrets.token_urlsafe(9).replace("-", "x").replace("_", "y")


class Category(models.Model):
    """A cookie category; ``necessary`` is always on and cannot be refused."""

    NECESSARY = "necessary"

    key = models.SlugField(_("key"), max_length=40, unique=True)
    name = models.JSONField(_("name per language"), default=dict)
    description = models.JSONField(_("description per language"), default=dict)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "key"]
        verbose_name = _("cookie category")
        verbose_name_plural = _("cookie categories")

    def __str__(self) -> str:
        return pick_language(self.name, BASE_LANGUAGE) or self.key

    @property
    def locked(self) -> bool:
        return self.key == self.NECESSARY

    def display_name(self, language: str | None = None) -> str:
        return pick_language(self.name, language) or self.key

    def display_description(self, language: str | None = None) -> str:
        return pick_language(self.description, language)


class Property(models.Model):
    """A website that embeds the banner."""

    name = models.CharField(_("name"), max_length=200)
    key = models.SlugField(_("public key"), max_length=40, unique=True, default=new_property_key)
    allowed_origins = models.TextField(
        _("allowed origins"),
        blank=True,
        help_text=_(
            "One origin per line, e.g. https://www.example.com. Every website address that shows this banner "
            "must be listed: choices made on any other address are refused and not recorded as proof."
        ),
    )
    default_language = models.CharField(
        _("default language"), max_length=5, choices=[(code, code) for code in LANGS], default=BASE_LANGUAGE
    )
    refusal_lifetime_days = models.PositiveIntegerField(_("ask again after a refusal (days)"), default=183)
    acceptance_lifetime_days = models.PositiveIntegerField(_("ask again after an acceptance (days)"), default=365)
    categories = models.ManyToManyField(Category, verbose_name=_("enabled categories"), related_name="properties")
    revision = models.PositiveIntegerField(_("revision"), default=1, editable=False)
    is_portal = models.BooleanField(
        _("the portal's own website"), default=False, help_text=_("Its banner is shown on the portal's pages.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("website")
        verbose_name_plural = _("websites")

    def __str__(self) -> str:
        return self.name

    def origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.allowed_origins.splitlines() if o.strip()]


class RefusedOrigin(models.Model):
    """A website address whose banner tried to record consent for a property that does not allow it."""

    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="refused_origins")
    origin = models.CharField(_("website address"), max_length=200)
    count = models.PositiveIntegerField(_("refused attempts"), default=0)
    first_seen = models.DateTimeField(_("first seen"), auto_now_add=True)
    last_seen = models.DateTimeField(_("last seen"))
    alerted_at = models.DateTimeField(_("privacy officers told"), null=True, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(fields=["property", "origin"], name="consent_refused_origin_unique"),
        ]
        verbose_name = _("refused website address")
        verbose_name_plural = _("refused website addresses")

    def __str__(self) -> str:
        return self.origin


class Revision(models.Model):
    """One entry of a property's change history; material ones bump the revision and re-prompt everyone."""

    property = models.ForeignKey(Property, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField(_("revision"))
    material = models.BooleanField(_("material change"), default=True)
    note = models.TextField(_("what changed"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("revision")

    def __str__(self) -> str:
        return f"{self.property} r{self.number}"


class PropagationMethod(models.TextChoices):
    """How a third party hears of opt-outs, withdrawn consents, restrictions and erasures."""

    HTTP = "http", _("through a connected web service")
    EMAIL = "email", _("by e-mail to their privacy contact")
    NONE = "none", _("not told")


class Vendor(models.Model):
    """A third party that receives data or sets cookies."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    purpose = models.TextField(_("purpose"))
    country = models.CharField(_("country"), max_length=100)
    privacy_policy_url = HttpsURLField(_("privacy policy URL"), blank=True)
    properties = models.ManyToManyField(Property, blank=True, related_name="vendors", verbose_name=_("websites"))
    # What they receive: an event reaches a third party only when it concerns one of these (README, "Telling the
    # recipients").
    consent_purposes = models.ManyToManyField(
        "Purpose",
        blank=True,
        related_name="vendors",
        verbose_name=_("receive data for these consents"),
        help_text=_("Told when an account holder withdraws one of these consents (or unsubscribes from marketing)."),
    )
    sale_or_sharing = models.BooleanField(
        _("data sold or shared with them, or used for targeted advertising"),
        default=False,
        help_text=_("Told when someone opts out of the sale or sharing of their data, or their browser sends GPC."),
    )
    data_categories = models.JSONField(
        _("kinds of personal data they receive"),
        default=list,
        blank=True,
        help_text=_("Told when a person's data of these kinds is erased or restricted."),
    )
    propagation_method = models.CharField(
        _("how they are told"), max_length=10, choices=PropagationMethod.choices, default=PropagationMethod.NONE
    )
    # PROTECT: a web service that tells a third party cannot disappear without someone choosing another way.
    propagation_system = models.ForeignKey(
        "systems.ExternalSystem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="vendors",
        limit_choices_to={"kind": "http"},
        verbose_name=_("web service that tells them"),
    )
    privacy_email = models.EmailField(_("privacy contact's e-mail"), blank=True)
    not_told_reason = models.TextField(_("why they are not told"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("third party")
        verbose_name_plural = _("third parties")

    def __str__(self) -> str:
        return self.name


class Party(models.TextChoices):
    FIRST = "first", _("First party")
    THIRD = "third", _("Third party")


class CookieDeclaration(models.Model):
    """A cookie or tracker a property sets, matched by exact name or regular expression."""

    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="declarations")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="declarations")
    name = models.CharField(_("name or pattern"), max_length=200)
    is_regex = models.BooleanField(_("regular expression"), default=False)
    provider = models.CharField(_("provider"), max_length=200)
    purpose = models.TextField(_("purpose"))
    duration = models.CharField(_("duration"), max_length=100)
    party = models.CharField(_("party"), max_length=10, choices=Party.choices, default=Party.FIRST)
    vendor = models.ForeignKey(Vendor, null=True, blank=True, on_delete=models.SET_NULL, related_name="declarations")

    class Meta:
        ordering = ["category__order", "name"]
        verbose_name = _("cookie declaration")

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if self.is_regex:
            import re

            try:
                re.compile(self.name)
            except re.error as exc:
                raise ValidationError({"name": _("Not a valid regular expression: %(e)s") % {"e": exc}})


class ConsentMethod(models.TextChoices):
    ACCEPT_ALL = "accept_all", _("Accept all")
    REJECT_ALL = "reject_all", _("Reject all")
    CUSTOM = "custom", _("Custom")
    GPC = "gpc", _("Global Privacy Control")
    WITHDRAW = "withdraw", _("Withdrawal")


class AppendOnlyError(Exception):
    """Raised when code tries to edit or delete a log row (bulk deletes by retention are the only way out)."""


class ConsentRecord(models.Model):
    """One choice made in a banner: the proof of consent. Append-only."""

    consent_id = models.UUIDField(_("consent id"), db_index=True)
    # No index of its own: (property, created_at, id) below serves every lookup by website.
    property = models.ForeignKey(Property, on_delete=models.PROTECT, related_name="records", db_index=False)
    revision = models.PositiveIntegerField(_("revision"))
    choices = models.JSONField(_("choice per category"))
    method = models.CharField(_("method"), max_length=20, choices=ConsentMethod.choices)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    # The log must outlive an account: erasure (consent/privacy.py) unlinks the person before the account
    # goes, and PROTECT makes any other way of deleting an account fail instead of silently touching the proof.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="consent_records"
    )
    ip = models.GenericIPAddressField(_("IP address (truncated)"), null=True, blank=True)
    user_agent_family = models.CharField(_("browser"), max_length=100, blank=True)
    page_url = models.CharField(_("page URL"), max_length=500, blank=True)
    gpc = models.BooleanField(_("Global Privacy Control"), default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("consent record")
        # The log is the largest table and every index slows its writes: these two replace the narrower ones
        # they extend (migration 0007 says why), so a write maintains one index fewer than before.
        indexes = [
            models.Index(fields=["created_at", "id"], name="consent_log_time_id"),
            models.Index(fields=["property", "created_at", "id"], name="consent_log_site_time_id"),
        ]

    def __str__(self) -> str:
        return f"{self.consent_id} {self.method} r{self.revision}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("Consent records cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Consent records cannot be deleted; only retention removes them.")


class ConsentDailySummary(models.Model):
    """How many choices the log holds per day (in the organisation's time zone), website, method and GPC signal.

    A roll-up kept by ``services.summarise_consent``: staff pages count and chart from here, never from the log.
    """

    day = models.DateField(_("day"))
    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="daily_summaries")
    method = models.CharField(_("method"), max_length=20, choices=ConsentMethod.choices)
    gpc = models.BooleanField(_("Global Privacy Control"), default=False)
    count = models.PositiveBigIntegerField(_("choices"), default=0)

    class Meta:
        ordering = ["-day", "property", "method", "gpc"]
        verbose_name = _("daily consent figures")
        verbose_name_plural = _("daily consent figures")
        constraints = [
            models.UniqueConstraint(fields=["day", "property", "method", "gpc"], name="consent_daily_summary_unique"),
        ]
        indexes = [models.Index(fields=["property", "day"], name="consent_summary_site_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.property_id} {self.method} {self.gpc}: {self.count}"


class ConsentSummaryState(models.Model):
    """Where the consent roll-up stands: the last log row it has seen and when it ran (the figures' "as of")."""

    key = models.CharField(max_length=40, unique=True, default="consent")
    last_record_id = models.BigIntegerField(default=0)
    summarised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("consent figures state")

    def __str__(self) -> str:
        return f"{self.key}: up to record {self.last_record_id}"


class Purpose(models.Model):
    """Something an account holder consents to, beyond cookies (marketing e-mails, sharing, research)."""

    MARKETING = "marketing"
    THIRD_PARTY_SHARING = "third_party_sharing"
    RESEARCH = "research"

    key = models.SlugField(_("key"), max_length=40, unique=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "key"]
        verbose_name = _("purpose")

    def __str__(self) -> str:
        version = self.current_version()
        return version.title if version else self.key

    def current_version(self):
        return self.versions.order_by("-version").first()


class PurposeVersion(models.Model):
    """The wording a person agreed to; a new wording is a new version, the old ones stay."""

    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    wording = models.TextField(_("wording"))
    requires_new_consent = models.BooleanField(
        _("asks everyone again"),
        default=True,
        help_text=_(
            "A change in what is done or with whom: earlier consents stop counting until the person agrees "
            "to this wording. Untick only for a change that does not affect what people agreed to (a typo)."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["purpose", "-version"]
        constraints = [models.UniqueConstraint(fields=["purpose", "version"], name="consent_purpose_version_unique")]
        verbose_name = _("purpose wording")

    def __str__(self) -> str:
        return f"{self.purpose.key} v{self.version}"


class PurposeConsentSource(models.TextChoices):
    ACCOUNT = "account", _("Consents page")
    EMAIL_PREFERENCES = "email_preferences", _("E-mail preferences")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")
    SIGNUP = "signup", _("Sign-up")
    STAFF = "staff", _("Staff")


class PurposeConsent(models.Model):
    """One grant or withdrawal of a purpose by an account holder; the latest one is in force. Append-only."""

    # Like the cookie log: erasure unlinks the person first; nothing else may delete the history.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="purpose_consents"
    )
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="consents")
    version = models.ForeignKey(PurposeVersion, on_delete=models.PROTECT, related_name="consents")
    granted = models.BooleanField(_("granted"))
    source = models.CharField(_("source"), max_length=20, choices=PurposeConsentSource.choices)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("purpose consent")
        indexes = [models.Index(fields=["user", "purpose", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.purpose.key}: {'granted' if self.granted else 'withdrawn'}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("Purpose consent history cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Purpose consent history cannot be deleted.")
