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

from registry.models import LegalHold, ProcessingRestriction
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
