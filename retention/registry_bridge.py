"""The registry's interfaces as retention uses them, in one place.

Retention works on any model label; the registry tells it which datasets exist,
their default rules, how to find a subject's rows, and which holds are active.
"""

import hashlib
import hmac

from django.conf import settings
from django.db.models import Q


def retention_rules() -> list:
    """The registry's declared RetentionRule objects (empty when no registry is installed)."""
    try:
        from registry import site
    except ImportError:
        return []
    rules = getattr(site, "retention_rules", None)
    return list(rules()) if rules else []


def translate_policy_text(policy_name: str, text: str) -> str:
    """A seeded policy's wording in the active language; a text staff rewrote is returned as written."""
    for rule in retention_rules():
        if rule.name == policy_name:
            return rule.translate(text)
    return text


def _dataset(label: str):
    try:
        from registry import site
    except ImportError:
        return None
    datasets = getattr(site, "datasets", None)
    if datasets is None:
        return None
    for ds in datasets():
        if ds.label.lower() == label.lower():
            return ds
    return None


def kept_on_erasure_labels() -> set[str]:
    """Labels of datasets some of whose fields the registry keeps when a subject is erased (a legal reason)."""
    try:
        from registry import site
    except ImportError:
        return set()
    datasets = getattr(site, "datasets", None)
    if datasets is None:
        return set()
    return {ds.label for ds in datasets() if any(str(f.strategy) == "keep" for f in ds.fields)}


def held_dataset_labels(*, now) -> set[str]:
    """Model labels of datasets under an active legal hold (lower-cased)."""
    try:
        from registry.selectors import held_dataset_labels as held
    except ImportError:
        return set()
    return {label.lower() for label in held(now=now)}


def held_subjects(*, now) -> tuple[set, set]:
    """(user ids, e-mail addresses) under an active legal hold."""
    try:
        from registry.selectors import held_subjects as held
    except ImportError:
        return set(), set()
    user_ids, emails = held(now=now)
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
    try:
        from registry.cascades import blocked_q
    except ImportError:
        return None
    return blocked_q(model, held_for)


def held_models_reached(collector, held_for) -> list[str]:
    """Labels of models whose held rows a collected delete would delete or change (a last check before it runs)."""
    if held_for is None:
        return []
    try:
        from registry.cascades import reached_held_models
    except ImportError:
        return []
    return reached_held_models(collector, held_for)


MASK_TEXT_FALLBACK = "[removed]"


def mask_text() -> str:
    try:
        from registry.strategies import MASK_TEXT
    except ImportError:
        return MASK_TEXT_FALLBACK
    return MASK_TEXT


def pseudonymise(value: str) -> str:
    """Keyed-HMAC pseudonym of ``value`` (the registry's strategy when present)."""
    try:
        from registry.strategies import pseudonymise as strategy
    except ImportError:
        strategy = None
    if strategy is not None:
        return strategy(value)
    digest = hmac.new(settings.PSEUDONYMISATION_KEY.encode(), str(value).encode(), hashlib.sha256).hexdigest()
    return f"pseudo-{digest[:24]}"
