"""The registry's interfaces as retention uses them, in one place.

Retention works on any model label; the registry tells it which datasets exist,
their default rules, how to find a subject's rows, and which holds are active.
"""

from django.db.models import Q

from registry import site
from registry.cascades import blocked_q, reached_held_models
from registry.selectors import HoldScope
from registry.selectors import hold_scope as _hold_scope
from registry.strategies import MASK_TEXT, PSEUDONYM_PREFIX
from registry.strategies import pseudonymise as _pseudonymise
from registry.texts import tr


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


def dataset(label: str):
    """The registered dataset with this model label, or None."""
    return _dataset(label)


def datasets() -> list:
    """Every registered dataset."""
    return list(site.datasets())


def external_datasets() -> list[tuple[str, str]]:
    """The connected systems' tables as (``<system key>.<table>``, "<system>: <title>")."""
    return site.external_datasets()


def text(declared: str) -> str:
    """A declared text (a dataset's title, say) in the active language."""
    return tr(declared)


def kept_on_erasure_labels() -> set[str]:
    """Labels of datasets some of whose fields the registry keeps when a subject is erased (a legal reason)."""
    return {ds.label for ds in site.datasets() if any(str(f.strategy) == "keep" for f in ds.fields)}


def hold_scope(*, now) -> HoldScope:
    """The legal holds in force at ``now``, evaluated by the registry (the one evaluator)."""
    return _hold_scope(now=now)


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
