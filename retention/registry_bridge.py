"""The registry's interfaces as retention uses them, in one place.

Retention works on any model label; the registry tells it which datasets exist,
their default rules, how to find a subject's rows, and which holds are active.
"""

from django.db.models import Q

from registry import site
from registry.cascades import blocked_q, reached_held_models
from registry.selectors import held_dataset_labels as _held_dataset_labels
from registry.selectors import held_subjects as _held_subjects
from registry.strategies import MASK_TEXT, PSEUDONYM_PREFIX
from registry.strategies import pseudonymise as _pseudonymise


def retention_rules() -> list:
    """The registry's declared RetentionRule objects."""
    return list(site.retention_rules())


def translate_policy_text(policy_name: str, text: str) -> str:
    """A seeded policy's wording in the active language; a text staff rewrote is returned as written."""
    for rule in retention_rules():
        if rule.name == policy_name:
            return rule.translate(text)
    return text


def _dataset(label: str):
    for ds in site.datasets():
        if ds.label.lower() == label.lower():
            return ds
    return None


def kept_on_erasure_labels() -> set[str]:
    """Labels of datasets some of whose fields the registry keeps when a subject is erased (a legal reason)."""
    return {ds.label for ds in site.datasets() if any(str(f.strategy) == "keep" for f in ds.fields)}


def held_dataset_labels(*, now) -> set[str]:
    """Model labels of datasets under an active legal hold (lower-cased)."""
    return {label.lower() for label in _held_dataset_labels(now=now)}


def held_subjects(*, now) -> tuple[set, set]:
    """(user ids, e-mail addresses) under an active legal hold."""
    user_ids, emails = _held_subjects(now=now)
    return set(user_ids), {e.lower() for e in emails}


def subject_q(*, label: str, model, user_ids, emails) -> Q | None:
    """Rows of ``model`` that belong to these subjects; None when the dataset cannot tell."""
    user_ids, emails = tuple(user_ids), tuple(emails)
    if not user_ids and not emails:
        return None
    ds = _dataset(label)
    if ds is not None:
        return ds.subject_q(user_ids=user_ids, emails=emails)
    # Unregistered models: the account model itself, or anything with a user or email field.
    from django.contrib.auth import get_user_model

    q = Q(pk__in=[])
    if model is get_user_model():
        q = Q(pk__in=user_ids)
        for email in emails:
            q |= Q(email__iexact=email)
        return q
    names = {f.name for f in model._meta.get_fields()}
    if "user" in names:
        q |= Q(user_id__in=user_ids)
    if "email" in names:
        for email in emails:  # addresses are compared case-insensitively, as the registry does
            q |= Q(email__iexact=email)
    return q


def held_rows(*, held_labels, user_ids, emails):
    """A function telling which rows of a model are under a hold (``Q()`` for all, a ``Q``, or None); None when
    nothing is held. ``held_labels`` are lower-cased, as ``held_dataset_labels`` returns them."""
    held_labels, user_ids, emails = set(held_labels), tuple(user_ids), tuple(emails)
    if not (held_labels or user_ids or emails):
        return None
    from django.contrib.auth import get_user_model

    def rows(model) -> Q | None:
        label = model._meta.label
        if label.lower() in held_labels:
            return Q()
        names = {f.name for f in model._meta.get_fields()}
        if _dataset(label) is None and model is not get_user_model() and not names & {"user", "email"}:
            return None  # nothing tells whose these rows are
        return subject_q(label=label, model=model, user_ids=user_ids, emails=emails)

    return rows


def cascade_hold_q(model, held_for) -> Q | None:
    """Rows of ``model`` whose delete would delete, change or be refused by held rows elsewhere (cascades)."""
    if held_for is None:
        return None
    return blocked_q(model, held_for)


def held_models_reached(collector, held_for) -> list[str]:
    """Labels of models whose held rows a collected delete would delete or change (a last check before it runs)."""
    if held_for is None:
        return []
    return reached_held_models(collector, held_for)


def mask_text() -> str:
    return MASK_TEXT


def pseudonym_prefix() -> str:
    """The marker every pseudonym starts with: a row carrying it was already pseudonymised."""
    return PSEUDONYM_PREFIX


def pseudonymise(value: str) -> str:
    """The registry's keyed-HMAC pseudonym of ``value``: the same as an erasure writes."""
    return _pseudonymise(value)
