"""Connected systems: the organisation's own databases and services that hold personal data, and their datasets.

Credentials are never stored here: an SQL system names the environment variable that holds its database URL.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import HttpsURLField
from registry.sites import LegalBasis
from registry.strategies import Strategy
from registry.taxonomy import DATA_CATEGORIES


class Kind(models.TextChoices):
    SQL = "sql", _("database")
    HTTP = "http", _("web service")
    MANUAL = "manual", _("done by a person")


class Action(models.TextChoices):
    ACCESS = "access", _("access and portability")
    ERASURE = "erasure", _("erasure")
    RECTIFICATION = "rectification", _("rectification")
    RESTRICTION = "restriction", _("restriction")
    RETENTION = "retention", _("retention")
    OPT_OUT = "opt_out", _("opt-outs of sale or sharing")
    CONSENT = "consent", _("consent withdrawals")


class IdentityKind(models.TextChoices):
    EMAIL = "email", _("e-mail address")
    USER_ID = "user_id", _("portal account number")


class RetentionAction(models.TextChoices):
    DELETE = "delete", _("delete the row")
    NULL = "null", _("clear the fields")
    MASK = "mask", _("replace the fields with fixed text")
    PSEUDONYMISE = "pseudonymise", _("pseudonymise the fields")
    KEEP = "keep", _("keep (report only)")


def category_choices() -> list[tuple[str, str]]:
    """The taxonomy's categories (a callable, so that a new label needs no migration)."""
    return [(key, _(label)) for key, label in DATA_CATEGORIES.items()]


def legal_basis_choices() -> list[tuple[str, str]]:
    return [(key, _(label)) for key, label in LegalBasis.LABELS.items()]


class ExternalSystem(models.Model):
    """A database or service outside the portal that holds personal data."""

    key = models.SlugField(_("short name"), max_length=64, unique=True, help_text=_("Used in the systems file."))
    name = models.CharField(_("name"), max_length=200)
    owner_name = models.CharField(_("owner"), max_length=200, help_text=_("The team answerable for the system."))
    owner_email = models.EmailField(_("owner's e-mail"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SQL)
    url_env = models.CharField(
        _("connection variable"),
        max_length=128,
        blank=True,
        help_text=_("Name of the environment variable that holds the database address and password."),
    )
    url = HttpsURLField(_("web address"), blank=True, help_text=_("For a web service."))
    secret_env = models.CharField(
        _("signing key variable"),
        max_length=128,
        blank=True,
        help_text=_("Name of the environment variable that holds the key its calls are signed with."),
    )
    timeout = models.FloatField(_("time limit (seconds)"), default=10.0)
    actions = models.JSONField(_("what it supports"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("connected system")
        verbose_name_plural = _("connected systems")

    def __str__(self) -> str:
        return self.name

    def supports(self, action: str) -> bool:
        return action in self.actions


class SystemDataset(models.Model):
    """One table of a connected system, and how its rows reach a person."""

    system = models.ForeignKey(ExternalSystem, on_delete=models.CASCADE, related_name="datasets")
    table = models.CharField(_("table"), max_length=128)
    title = models.CharField(_("title"), max_length=200, help_text=_("What a person reads in their export."))
    description = models.TextField(_("description"), blank=True)
    # {identity kind: column}, e.g. {"email": "email"} or {"user_id": "portal_user_id"}
    identity = models.JSONField(
        _("columns that identify the person"),
        default=dict,
        blank=True,
        help_text=_('For example {"email": "email"}: the column holding the person\'s e-mail address.'),
    )
    # {column: "table.column"}: this table's column points at another table's column
    references = models.JSONField(
        _("links to other tables"),
        default=dict,
        blank=True,
        help_text=_('For example {"customer_id": "customers.id"}: each row belongs to that customer.'),
    )
    # Columns reviewed (by discovery or by hand) and found to hold no personal data: not reported as new.
    other_columns = models.JSONField(
        _("columns without personal data"),
        default=list,
        blank=True,
        help_text=_("Columns reviewed and found to hold nothing about a person."),
    )

    class Meta:
        ordering = ["system", "pk"]
        verbose_name = _("table of a connected system")
        verbose_name_plural = _("tables of connected systems")
        constraints = [models.UniqueConstraint(fields=["system", "table"], name="systems_dataset_unique_table")]

    def __str__(self) -> str:
        return f"{self.system.name}: {self.title}"


class SystemField(models.Model):
    """A personal-data column of a dataset: the same metadata as a ``privacy.py`` field."""

    dataset = models.ForeignKey(SystemDataset, on_delete=models.CASCADE, related_name="fields")
    name = models.CharField(_("column"), max_length=128)
    category = models.CharField(_("kind of data"), max_length=80, choices=category_choices)
    purpose = models.CharField(_("purpose"), max_length=200)
    legal_basis = models.CharField(_("legal basis"), max_length=32, choices=legal_basis_choices)
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    strategy = models.CharField(_("on erasure"), max_length=16, choices=Strategy.choices, default=Strategy.DELETE)
    keep_reason = models.CharField(_("why it is kept"), max_length=300, blank=True)
    secret = models.BooleanField(_("credential"), default=False, help_text=_("Never exported nor shown."))
    rectifiable = models.BooleanField(_("may be corrected"), default=False)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["dataset", "pk"]
        verbose_name = _("personal-data column")
        verbose_name_plural = _("personal-data columns")
        constraints = [models.UniqueConstraint(fields=["dataset", "name"], name="systems_field_unique_name")]

    def __str__(self) -> str:
        return self.name


class SystemRetentionRule(models.Model):
    """How long a dataset's rows are kept, counted from a date column."""

    dataset = models.ForeignKey(SystemDataset, on_delete=models.CASCADE, related_name="retention_rules")
    name = models.SlugField(_("short name"), max_length=100)
    period_days = models.PositiveIntegerField(_("kept for (days)"))
    date_field = models.CharField(_("counted from column"), max_length=128)
    action = models.CharField(_("then"), max_length=16, choices=RetentionAction.choices, default=RetentionAction.DELETE)
    fields = models.JSONField(_("columns"), default=list, blank=True, help_text=_("For clear, mask and pseudonymise."))
    legal_basis = models.TextField(_("why this period"), blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["dataset", "pk"]
        verbose_name = _("retention rule of a connected system")
        verbose_name_plural = _("retention rules of connected systems")
        constraints = [models.UniqueConstraint(fields=["dataset", "name"], name="systems_rule_unique_name")]

    def __str__(self) -> str:
        return self.name
