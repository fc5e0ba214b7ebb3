"""Reads of the declarations: legal holds and restrictions with their evaluators, the record of processing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import capfirst

from registry.models import LegalHold, ProcessingActivity, ProcessingRestriction
from registry.sites import LegalBasis, site
from registry.strategies import Strategy
from registry.taxonomy import category_label
from registry.texts import tr, tr_all

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from django.contrib.auth.base_user import AbstractBaseUser
    from django.db.models import QuerySet

    from registry.sites import Dataset, RetentionRule


def active_holds(*, now: datetime | None = None) -> QuerySet[LegalHold]:
    """Legal holds in force at ``now`` (not released, not ended)."""
    now = now or timezone.now()
    return LegalHold.objects.filter(released_at__isnull=True, starts_at__lte=now).filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=now)
    )


def held_dataset_labels(*, now: datetime | None = None) -> set[str]:
    """Model labels of datasets under a legal hold as a whole."""
    return set(hold_scope(now=now).dataset_reasons)


def held_subjects(*, now: datetime | None = None) -> tuple[set[int], set[str]]:
    """(user ids, lower-cased e-mails) of subjects under a legal hold."""
    scope = hold_scope(now=now)
    return scope.user_ids, scope.emails


@dataclass
class HoldScope:
    """The legal holds in force at one moment: the one evaluator erasure, retention and the account flows use.

    A held dataset holds all its rows. A held subject holds their rows wherever they can be told apart: in a
    registered dataset by its subject lookup, elsewhere by the account itself or a ``user``/``email`` field.
    Case does not matter in addresses.
    """

    dataset_reasons: dict[str, list[str]] = field(default_factory=dict)  # held dataset label -> staff reasons
    user_ids: set = field(default_factory=set)
    emails: set = field(default_factory=set)  # lower-cased

    def __bool__(self) -> bool:
        return bool(self.dataset_reasons or self.user_ids or self.emails)

    @property
    def held_labels(self) -> set[str]:
        """Lower-cased labels of the datasets held as a whole."""
        return {label.lower() for label in self.dataset_reasons}

    def holds_subject(self, *, user_id: int | None = None, email: str = "") -> bool:
        """Whether a hold covers this account or address."""
        return (user_id is not None and user_id in self.user_ids) or bool(email and email.lower() in self.emails)

    def held_for(self, model: type[models.Model]) -> Q | None:
        """Rows of ``model`` under a hold: all of them (``Q()``) for a held dataset, the held subjects' rows, or
        None when nothing of it is held (or nothing tells whose its rows are)."""
        label = model._meta.label
        if label.lower() in self.held_labels:
            return Q()
        if not (self.user_ids or self.emails):
            return None
        if site.is_registered(label):
            return site.get(label).subject_q(user_ids=self.user_ids, emails=self.emails)
        return _unregistered_subject_q(model, user_ids=self.user_ids, emails=self.emails)

    def reasons_for(self, label: str) -> list[str]:
        return next((r for held, r in self.dataset_reasons.items() if held.lower() == label.lower()), [])


def _unregistered_subject_q(model: type[models.Model], *, user_ids: set, emails: set) -> Q | None:
    # The account model itself, or anything with a user or email field; None when nothing tells whose a row is.
    if model is get_user_model():
        q = Q(pk__in=list(user_ids))
        for email in emails:
            q |= Q(email__iexact=email)
        return q
    names = {f.name for f in model._meta.get_fields()}
    if not names & {"user", "email"}:
        return None
    q = Q(pk__in=[])
    if "user" in names:
        q |= Q(user_id__in=list(user_ids))
    if "email" in names:
        for email in emails:
            q |= Q(email__iexact=email)
    return q


def hold_scope(*, now: datetime | None = None) -> HoldScope:
    """Every legal hold in force at ``now``: held datasets with their reasons, and held subjects."""
    scope = HoldScope()
    for dataset, user_id, email, reason in active_holds(now=now).values_list("dataset", "user_id", "email", "reason"):
        if dataset:
            scope.dataset_reasons.setdefault(dataset, []).append(reason)
            continue
        if user_id:
            scope.user_ids.add(user_id)
        if email:
            scope.emails.add(email.lower())
    return scope


def subject_holds(
    *, user_ids: Iterable[int] = (), emails: Iterable[str] = (), now: datetime | None = None
) -> QuerySet[LegalHold]:
    """Active holds on any of these subjects."""
    emails = [e for e in emails if e]
    q = Q(pk__in=[])
    if user_ids:
        q |= Q(user_id__in=list(user_ids))
    for email in emails:
        q |= Q(email__iexact=email)
    return active_holds(now=now).filter(dataset="").filter(q)


def active_restrictions(
    *, user: AbstractBaseUser | None = None, email: str | None = None
) -> QuerySet[ProcessingRestriction]:
    """Restrictions and objections in force for this subject."""
    q = Q(pk__in=[])
    if user is not None and getattr(user, "pk", None):
        q |= Q(user=user)
        if user.email:
            q |= Q(email__iexact=user.email)
    if email:
        q |= Q(email__iexact=email)
    return ProcessingRestriction.objects.filter(lifted_at__isnull=True).filter(q)


def _field_label(ds, name: str) -> str:
    """A registered field as staff read it: its model's verbose name ("IP address"), else its name in words."""
    try:
        return capfirst(str(ds.model._meta.get_field(name).verbose_name))
    except (FieldDoesNotExist, LookupError):
        return capfirst(name.replace("_", " "))


def _strategy_label(strategy: str) -> str:
    """What erasure does to a field, as its label ("clear the field"), not its stored value."""
    try:
        return capfirst(str(Strategy(str(strategy)).label))
    except ValueError:
        return str(strategy)


def record_of_processing() -> list[dict]:
    """One row per registered field: the record of processing activities (GDPR Art. 30)."""
    rows = []
    enforced = enforced_retention_texts()
    for ds in site.datasets():
        rules = {r.name: r for r in ds.retention}
        for f in ds.fields:
            rule = rules.get(f.retention) or site.retention_rule(f.retention) if f.retention else None
            rows.append(
                {
                    "dataset": ds.label,
                    "dataset_title": tr(ds.title),
                    "field": f.name,
                    "field_label": _field_label(ds, f.name),
                    "category": f.category,
                    "category_label": category_label(f.category),
                    "purpose": tr(f.purpose),
                    "purpose_key": f.purpose,
                    "legal_basis": f.legal_basis,
                    "legal_basis_label": LegalBasis.label(f.legal_basis),
                    "recipients": ", ".join(tr_all(f.recipients)),
                    "source": tr(f.source),
                    "erasure": f.strategy,
                    "erasure_label": _strategy_label(f.strategy),
                    "keep_reason": tr(f.keep_reason),
                    "retention": retention_text(rule, enforced) if rule else "",
                }
            )
    return rows


# Layers above plug in what they know (the way retention does its texts, below): ``systems`` the connected
# systems' declared columns, ``consent`` the third parties on the websites with their countries.
_external_fields_reader: Callable[[], list[dict]] | None = None
_vendors_reader: Callable[[], list[dict]] | None = None


def set_external_fields_reader(reader: Callable[[], list[dict]] | None) -> None:
    """Install the reader of connected systems' columns: dicts with dataset_title, purpose, category,
    legal_basis, recipients and retention (lists of texts)."""
    global _external_fields_reader
    _external_fields_reader = reader


def set_vendors_reader(reader: Callable[[], list[dict]] | None) -> None:
    """Install the reader of the websites' third parties: dicts with name, country and purpose."""
    global _vendors_reader
    _vendors_reader = reader


# Countries of the European Economic Area, by name and ISO code (lower case): a recipient elsewhere is a
# transfer to a third country (Chapter V) and needs a safeguard.
EEA = {
    *"at be bg hr cy cz dk ee fi fr de gr hu ie it lv lt lu mt nl pl pt ro sk si es se is li no eu eea".split(),
    "austria", "belgium", "bulgaria", "croatia", "cyprus", "czechia", "czech republic", "denmark", "estonia",
    "finland", "france", "germany", "greece", "hungary", "ireland", "italy", "latvia", "lithuania", "luxembourg",
    "malta", "netherlands", "the netherlands", "poland", "portugal", "romania", "slovakia", "slovenia", "spain",
    "sweden", "iceland", "liechtenstein", "norway", "european union", "european economic area",
}  # fmt: skip


def is_third_country(country: str) -> bool:
    """Whether ``country`` lies outside the EEA (an empty country says nothing)."""
    return bool(country.strip()) and country.strip().lower() not in EEA


@dataclass
class Activity:
    """One processing activity of the register: what is declared for a purpose, and the officer's wording."""

    purpose: str  # the declared purpose as written in code, or the officer's new one
    name: str = ""
    description: str = ""
    declared: bool = False  # some declaration names this purpose
    officer_added: bool = False
    changed_by_officer: bool = False
    datasets: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    data_subjects: str = ""
    legal_bases: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    transfers: list[dict] = field(default_factory=list)  # recipient, country, safeguard
    retention: list[str] = field(default_factory=list)
    security_measures: str = ""

    def as_row(self) -> dict:
        """The activity as one flat row (the CSV export)."""
        return {
            "activity": self.name,
            "purpose": self.purpose,
            "description": self.description,
            "data_categories": "; ".join(self.categories),
            "data_subjects": self.data_subjects,
            "legal_basis": "; ".join(self.legal_bases),
            "datasets": "; ".join(self.datasets),
            "recipients": "; ".join(self.recipients),
            "sources": "; ".join(self.sources),
            "third_country_transfers": "; ".join(
                f"{t['recipient']} ({t['country']}): {t['safeguard'] or 'no safeguard recorded'}"
                for t in self.transfers
            ),
            "retention": "; ".join(self.retention),
            "security_measures": self.security_measures,
            "added_by_officer": "yes" if self.officer_added else "no",
        }


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _add(values: list[str], value: str) -> None:
    if value and value not in values:
        values.append(value)


def _declared_activities() -> dict[str, Activity]:
    """The activities the declarations name, by purpose: their fields in the portal and the connected systems."""
    enforced = enforced_retention_texts()
    activities: dict[str, Activity] = {}
    rows = []
    for ds in site.datasets():
        rules = {r.name: r for r in ds.retention}
        for f in ds.fields:
            rule = rules.get(f.retention) or site.retention_rule(f.retention) if f.retention else None
            rows.append(
                {
                    "dataset_title": tr(ds.title),
                    "purpose": f.purpose,
                    "category": f.category,
                    "legal_basis": f.legal_basis,
                    "recipients": tr_all(f.recipients),
                    "source": tr(f.source),
                    "retention": [retention_text(rule, enforced)] if rule else [],
                }
            )
    rows += _external_fields_reader() if _external_fields_reader is not None else []
    for row in rows:
        a = activities.setdefault(row["purpose"], Activity(purpose=row["purpose"], declared=True))
        _add(a.datasets, row["dataset_title"])
        _add(a.categories, category_label(row["category"]))
        _add(a.legal_bases, LegalBasis.label(row["legal_basis"]))
        for recipient in row["recipients"]:
            _add(a.recipients, recipient)
        _add(a.sources, row.get("source", ""))
        for text in row.get("retention", []):
            _add(a.retention, text)
    return activities


def declared_purposes() -> set[str]:
    """The purposes some declaration names (an officer's activity under another purpose is an added one)."""
    return set(_declared_activities())


def processing_activities() -> list[Activity]:
    """The record of processing activities (GDPR Art. 30): one entry per purpose, the declarations completed or
    overridden by the privacy officer's wording, with the websites' third parties outside the EEA as transfers."""
    activities = _declared_activities()
    for a in activities.values():
        a.name = capfirst(tr(a.purpose))
    for row in ProcessingActivity.objects.all():
        a = activities.get(row.purpose)
        if a is None:
            a = activities[row.purpose] = Activity(purpose=row.purpose, name=capfirst(row.purpose))
        a.officer_added = not a.declared
        a.changed_by_officer = True
        a.name = row.name or a.name
        a.description = row.description or a.description
        a.data_subjects = row.data_subjects
        a.security_measures = row.security_measures
        if row.data_categories.strip():
            a.categories = _lines(row.data_categories)
        if row.recipients.strip():
            a.recipients = _lines(row.recipients)
        if row.retention_note.strip():
            a.retention = _lines(row.retention_note)
        a.transfers = [dict(t) for t in row.transfers]
    vendors = _vendors_reader() if _vendors_reader is not None else []
    for vendor in vendors:
        if not is_third_country(vendor["country"]):
            continue
        for a in activities.values():
            named = any(vendor["name"].lower() in r.lower() for r in a.recipients)
            recorded = any(t["recipient"].lower() == vendor["name"].lower() for t in a.transfers)
            if named and not recorded:
                a.transfers.append({"recipient": vendor["name"], "country": vendor["country"], "safeguard": ""})
    return sorted(activities.values(), key=lambda a: (a.officer_added, a.name.lower()))


def unplaced_vendor_transfers(activities: list[Activity] | None = None) -> list[dict]:
    """The websites' third parties outside the EEA that no activity names among its recipients (the officer
    places them by naming them as a recipient, or records the transfer on an activity)."""
    activities = processing_activities() if activities is None else activities
    placed = {t["recipient"].lower() for a in activities for t in a.transfers}
    vendors = _vendors_reader() if _vendors_reader is not None else []
    return [
        {"recipient": v["name"], "country": v["country"], "purpose": v.get("purpose", "")}
        for v in vendors
        if is_third_country(v["country"]) and v["name"].lower() not in placed
    ]


# Retention, the layer above, knows which policies are enforced and how staff reworded them. It plugs in its
# reader when it loads (``retention.apps``); without one, the declared wording stands.
_enforced_texts_reader: Callable[[], dict[str, str]] | None = None


def set_enforced_retention_texts_reader(reader: Callable[[], dict[str, str]] | None) -> None:
    """Install the function that returns the enforced policies' descriptions by rule name."""
    global _enforced_texts_reader
    _enforced_texts_reader = reader


def enforced_retention_texts() -> dict[str, str]:
    """Descriptions of the retention policies actually enforced, by rule name (staff may have edited them)."""
    return _enforced_texts_reader() if _enforced_texts_reader is not None else {}


def retention_text(rule: RetentionRule | None, enforced: dict[str, str] | None = None) -> str:
    """How long ``rule``'s data is kept, in the active language: the enforced policy's wording if staff set one."""
    if rule is None:
        return ""
    if enforced and rule.name in enforced:
        return rule.translate(enforced[rule.name])
    if rule.description:
        return rule.translate(rule.description_text)
    return f"{rule.period_text} after {rule.date_field}"


def dataset_retention_rules(ds: Dataset) -> list:
    """The rules saying how long a dataset's rows are kept: its own, else the rules its fields refer to
    (e.g. request attachments, which go with their request)."""
    if ds.retention:
        return list(ds.retention)
    rules = []
    for f in ds.fields:
        rule = site.retention_rule(f.retention) if f.retention else None
        if rule is not None and rule not in rules:
            rules.append(rule)
    return rules


def public_summary() -> list[dict]:
    """Per dataset: what is collected, why, on what basis, how long, who receives it (for /privacy/data/)."""
    out = []
    enforced = enforced_retention_texts()
    for ds in site.datasets():
        rule_texts = [retention_text(r, enforced) for r in dataset_retention_rules(ds)]
        out.append(
            {
                "label": ds.label,
                "title": tr(ds.title),
                "description": tr(ds.description),
                "categories": sorted({category_label(f.category) for f in ds.fields}),
                "purposes": sorted(tr_all(ds.purposes())),
                "legal_bases": [LegalBasis.label(b) for b in ds.legal_bases()],
                "recipients": sorted(tr_all(ds.recipients())),
                "sources": sorted(tr_all(ds.sources())),
                "retention": rule_texts,
                "kept": sorted({tr(f.keep_reason) for f in ds.fields if f.keep_reason}),
            }
        )
    return out


# Purposes a restriction (Art. 18) still allows: keeping the data and defending legal claims.
STORAGE_PURPOSES = {"storage", "legal_claims"}
DEFAULT_OBJECTION_PURPOSES = ["marketing"]


def is_processing_allowed(*, user: AbstractBaseUser | None = None, email: str | None = None, purpose: str) -> bool:
    """False if the subject restricted processing (storage only) or objected to ``purpose``."""
    for r in active_restrictions(user=user, email=email):
        if r.kind == ProcessingRestriction.Kind.RESTRICTION and purpose not in STORAGE_PURPOSES:
            return False
        if r.kind == ProcessingRestriction.Kind.OBJECTION and purpose in (r.purposes or DEFAULT_OBJECTION_PURPOSES):
            return False
    return True
