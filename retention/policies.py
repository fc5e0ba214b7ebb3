"""Seeding retention policies from the registry's rules (each app's privacy.py), without overwriting staff edits."""

from django.apps import apps
from django.db import transaction

from retention import registry_bridge
from retention.models import PeriodUnit, PolicySource, RetentionPolicy


def _usable(spec: dict) -> bool:
    """The dataset exists and the date field resolves (apps not installed yet are skipped)."""
    from retention.enforcement import resolve_field

    try:
        model = apps.get_model(spec["dataset"])
        resolve_field(model, spec["date_field"])
        for lookup in spec.get("filters") or {}:
            resolve_field(model, lookup.split("__")[0])
    except (LookupError, ValueError):
        return False
    return True


def _rule_to_spec(rule) -> dict:
    """A registry ``RetentionRule`` as the fields of a ``RetentionPolicy``."""
    return {
        "name": rule.name,
        "dataset": rule.dataset,
        "description": rule.description_text,
        "period": rule.period_months or rule.period_days,
        "period_unit": PeriodUnit.MONTHS if rule.period_months else PeriodUnit.DAYS,
        "date_field": rule.date_field,
        "filters": dict(rule.filters),
        "action": rule.action,
        "fields": list(rule.fields),
        "legal_basis": rule.legal_basis_text,
    }


@transaction.atomic
def sync_policies() -> dict:
    """Create missing policies from the registry's rules (the one source of defaults); refresh unedited ones.

    A policy staff edited (``customised``) or created (source staff) is never touched.
    """
    created = updated = 0
    source = PolicySource.REGISTRY
    for spec in map(_rule_to_spec, registry_bridge.retention_rules()):
        if not _usable(spec):
            continue
        existing = RetentionPolicy.objects.filter(name=spec["name"]).first()
        if existing is None:
            RetentionPolicy.objects.create(source=source, **spec)
            created += 1
        elif existing.source != PolicySource.STAFF and not existing.customised:
            changed = [k for k, v in spec.items() if getattr(existing, k) != v]
            if changed or existing.source != source:
                for k in changed:
                    setattr(existing, k, spec[k])
                existing.source = source
                existing.save()
                updated += 1
    return {"created": created, "updated": updated}
