"""The registry of personal data: which models hold it, whose it is, and what may be done with it.

Apps declare their data in ``<app>/privacy.py`` (auto-discovered like ``admin.py``). Texts meant for data
subjects (titles, descriptions, purposes, recipients, sources, keep reasons, retention wording) are
written in English and marked with ``gettext_noop``: they stay plain strings in the registry, the
database and the audit trail, and are translated where a person reads them (``registry.texts``)::

    from registry import site, PersonalField, RetentionRule, Strategy

    site.register(
        "demo.TrafficLog",
        user_path="user",
        fields=[PersonalField("ip_address", category="user.device.ip_address", purpose="security",
                              legal_basis="legitimate_interests", strategy=Strategy.DELETE)],
        retention=[RetentionRule(name="traffic-logs", dataset="demo.TrafficLog", period_days=90, date_field="created_at")],
    )

A column that works as a credential (a password hash, a session key, a token or nonce) is marked secret:
``PersonalField(..., secret=True)`` when it is declared personal data (erased by its strategy as usual), or
``secret_fields=(...)`` on ``register`` for a column that goes with its row. A secret is never exported;
the export names it as withheld. ``registry.checks`` refuses a declaration that would export a column
named like a secret without the mark.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import Q
from django.utils.translation import gettext, gettext_noop

from core.retention_actions import FIELD_ACTIONS, RetentionAction
from registry.strategies import Strategy


class LegalBasis:
    """GDPR Art. 6 lawful bases, as the words used in declarations."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTERESTS = "legitimate_interests"

    LABELS = {
        "consent": gettext_noop("Consent (Art. 6(1)(a))"),
        "contract": gettext_noop("Performance of a contract (Art. 6(1)(b))"),
        "legal_obligation": gettext_noop("Legal obligation (Art. 6(1)(c))"),
        "vital_interests": gettext_noop("Vital interests (Art. 6(1)(d))"),
        "public_task": gettext_noop("Public task (Art. 6(1)(e))"),
        "legitimate_interests": gettext_noop("Legitimate interests (Art. 6(1)(f))"),
    }

    @classmethod
    def label(cls, basis: str) -> str:
        """The basis in words, in the active language."""
        return gettext(cls.LABELS[basis]) if basis in cls.LABELS else basis


@dataclass(frozen=True, kw_only=True)
class RetentionRule:
    """A declared retention period: the one source of the defaults that retention seeds as editable policies.

    The period is ``period_days`` or ``period_months`` (calendar months, for "2 years", "7 years"), never both.
    ``action`` is a ``core.retention_actions.RetentionAction`` value: delete | null | mask | pseudonymise | keep |
    inactive_accounts (warn, then delete unless the holder logs in).
    """

    ACTIONS = tuple(RetentionAction.values)
    FIELD_ACTIONS = FIELD_ACTIONS

    name: str
    dataset: str  # model label, e.g. "demo.TrafficLog"
    date_field: str  # field path, may traverse relations
    period_days: int = 0
    period_months: int = 0
    description: str = ""  # the promise in plain words, as /privacy/data/ shows it
    action: str = "delete"
    fields: tuple[str, ...] = ()
    legal_basis: str = ""  # why this period, in words (account holders see it before deleting their account)
    filters: dict = field(default_factory=dict)
    # Values for %(name)s placeholders in description and legal_basis (e.g. a period read from settings),
    # so that the wording stays one translatable text.
    text_args: dict = field(default_factory=dict)

    def __post_init__(self):
        if (self.period_days > 0) == (self.period_months > 0):
            raise ValueError(f"Retention rule '{self.name}': give period_days or period_months, one of them.")

    @property
    def period_text(self) -> str:
        return f"{self.period_months} months" if self.period_months else f"{self.period_days} days"

    @property
    def description_text(self) -> str:
        """The description in English with its values filled in: what a seeded policy stores."""
        return self.description % self.text_args if self.text_args else self.description

    @property
    def legal_basis_text(self) -> str:
        return self.legal_basis % self.text_args if self.text_args else self.legal_basis

    def translate(self, stored: str) -> str:
        """``stored`` (a policy's text) in the active language while it is still this rule's own wording.

        A text staff rewrote in admin is theirs, and is shown as written.
        """
        for template in (self.description, self.legal_basis):
            if template and stored == (template % self.text_args if self.text_args else template):
                return gettext(template) % self.text_args if self.text_args else gettext(template)
        return stored

    def __hash__(self):
        return hash((self.name, self.dataset))


@dataclass(frozen=True)
class PersonalField:
    """One personal-data field and everything the record of processing needs to say about it."""

    name: str
    category: str
    purpose: str
    legal_basis: str
    recipients: tuple[str, ...] = ()
    source: str = gettext_noop("the data subject")
    strategy: str = Strategy.DELETE
    keep_reason: str = ""
    retention: str = ""  # name of a RetentionRule
    description: str = ""
    # A credential (password hash, session key, token): never exported, never shown to staff; erased as usual.
    secret: bool = False

    def __post_init__(self):
        if isinstance(self.recipients, str | list):
            object.__setattr__(
                self, "recipients", (self.recipients,) if isinstance(self.recipients, str) else tuple(self.recipients)
            )


@dataclass
class Dataset:
    """A registered model: how to find a subject's rows and its personal fields."""

    label: str
    title: str
    description: str
    fields: list[PersonalField]
    user_path: str | None = None  # path from the row to the user's pk, e.g. "user" or "conversation__user"
    email_field: str | None = None  # path to an e-mail field
    lookup: Callable[..., Q] | None = None  # custom: lookup(user_ids=..., emails=...) -> Q
    retention: list[RetentionRule] = field(default_factory=list)
    file_fields: tuple[str, ...] = ()
    export_exclude: tuple[str, ...] = ()
    # Columns that work as credentials and are not declared as personal fields (they go with their row).
    secret_fields: tuple[str, ...] = ()
    erase_order: int = 100  # lower first; the account itself goes last
    rectifiable: bool = False
    # Fields staff may edit on the rectification page; empty: every registered text field not excluded
    # from exports (credentials never; identifiers such as a login e-mail have their own flows).
    rectify_fields: tuple[str, ...] = ()

    @property
    def model(self):
        return apps.get_model(self.label)

    @property
    def secret_names(self) -> frozenset[str]:
        """Columns never exported nor shown: registered fields marked secret and ``secret_fields``."""
        return frozenset(self.secret_fields) | {f.name for f in self.fields if f.secret}

    @property
    def deletes_rows(self) -> bool:
        return any(f.strategy == Strategy.DELETE for f in self.fields)

    def rectifiable_fields(self) -> list[str]:
        """Names of the registered text fields staff may correct on the rectification page."""
        if not self.rectifiable:
            return []
        names = []
        for f in self.fields:
            if (
                f.name in self.export_exclude
                or f.name in self.secret_names
                or (self.rectify_fields and f.name not in self.rectify_fields)
            ):
                continue
            if self.model._meta.get_field(f.name).get_internal_type() in ("CharField", "TextField", "EmailField"):
                names.append(f.name)
        return names

    def field(self, name: str) -> PersonalField | None:
        return next((f for f in self.fields if f.name == name), None)

    def subject_q(self, *, user_ids: Iterable = (), emails: Iterable = ()) -> Q:
        """Rows belonging to any of these subjects (matches nothing when no identifiers are given)."""
        user_ids = [u for u in user_ids if u is not None]
        emails = [e.strip() for e in emails if e and e.strip()]
        q = Q(pk__in=[])
        if self.user_path and user_ids:
            path = "pk" if self.user_path in ("", "pk", "self") else f"{self.user_path}"
            q |= Q(**{f"{path}__in": user_ids})
        if self.email_field and emails:
            for email in emails:
                q |= Q(**{f"{self.email_field}__iexact": email})
        if self.lookup is not None:
            extra = self.lookup(user_ids=user_ids, emails=emails)
            if extra is not None:
                q |= extra
        return q

    def queryset_for(self, *, user_ids: Iterable = (), emails: Iterable = ()):
        return self.model._default_manager.filter(self.subject_q(user_ids=user_ids, emails=emails))

    def purposes(self) -> list[str]:
        return sorted({f.purpose for f in self.fields})

    def categories(self) -> list[str]:
        return sorted({f.category for f in self.fields})

    def legal_bases(self) -> list[str]:
        return sorted({f.legal_basis for f in self.fields})

    def recipients(self) -> list[str]:
        return sorted({r for f in self.fields for r in f.recipients})

    def sources(self) -> list[str]:
        return sorted({f.source for f in self.fields if f.source})

    def export_field_names(self) -> list[str]:
        """Columns an export holds: all but ``export_exclude`` and the secrets."""
        hidden = set(self.export_exclude) | self.secret_names
        return [f.attname for f in self.model._meta.concrete_fields if f.name not in hidden]

    def withheld_field_names(self) -> list[str]:
        """Secret columns the model has, which an export names but never holds."""
        return [f.name for f in self.model._meta.concrete_fields if f.name in self.secret_names]


class AlreadyRegistered(Exception):
    pass


class PrivacyRegistry:
    """Holds every registered dataset; ``registry.site`` is the project-wide instance."""

    def __init__(self, name: str = "privacy"):
        self.name = name
        self._datasets: dict[str, Dataset] = {}
        self._external: Callable[[], list[tuple[str, str]]] | None = None

    def set_external_datasets(self, provider: Callable[[], list[tuple[str, str]]] | None) -> None:
        """Install the reader of datasets held outside the portal, as (label, title): the connected systems'
        tables (``<system key>.<table>``), which holds may name too. ``systems`` plugs it in when it loads."""
        self._external = provider

    def external_datasets(self) -> list[tuple[str, str]]:
        """The connected systems' datasets as (label, title), read when asked (systems change at run time)."""
        return list(self._external()) if self._external is not None else []

    def is_known_dataset(self, label: str) -> bool:
        """Whether a hold may name ``label``: a registered model, or a connected system's table."""
        return self.is_registered(label) or label.lower() in {known.lower() for known, _ in self.external_datasets()}

    def register(
        self,
        model,
        *,
        fields: Iterable[PersonalField],
        user_path: str | None = None,
        email_field: str | None = None,
        lookup: Callable[..., Q] | None = None,
        title: str = "",
        description: str = "",
        retention: Iterable[RetentionRule] = (),
        file_fields: Iterable[str] = (),
        export_exclude: Iterable[str] = (),
        secret_fields: Iterable[str] = (),
        erase_order: int = 100,
        rectifiable: bool = False,
        rectify_fields: Iterable[str] = (),
    ) -> Dataset:
        """Register a model (class or "app_label.Model"), including models of other apps."""
        label = model if isinstance(model, str) else model._meta.label
        if label in self._datasets:
            raise AlreadyRegistered(f"{label} is already registered with the privacy registry.")
        dataset = Dataset(
            label=label,
            title=title or label,
            description=description,
            fields=list(fields),
            user_path=user_path,
            email_field=email_field,
            lookup=lookup,
            retention=list(retention),
            file_fields=tuple(file_fields),
            export_exclude=tuple(export_exclude),
            secret_fields=tuple(secret_fields),
            erase_order=erase_order,
            rectifiable=rectifiable,
            rectify_fields=tuple(rectify_fields),
        )
        self._datasets[label] = dataset
        return dataset

    def unregister(self, model) -> None:
        label = model if isinstance(model, str) else model._meta.label
        self._datasets.pop(label, None)

    def is_registered(self, model) -> bool:
        label = model if isinstance(model, str) else model._meta.label
        return label in self._datasets

    def get(self, label: str) -> Dataset:
        return self._datasets[label]

    def datasets(self) -> list[Dataset]:
        """Registered datasets in erasure order (account last)."""
        return sorted(self._datasets.values(), key=lambda d: (d.erase_order, d.label))

    def retention_rules(self) -> list[RetentionRule]:
        """Every declared retention rule."""
        return [rule for d in self.datasets() for rule in d.retention]

    def retention_rule(self, name: str) -> RetentionRule | None:
        return next((r for r in self.retention_rules() if r.name == name), None)


site = PrivacyRegistry()
