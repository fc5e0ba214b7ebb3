"""Reads of connected-system declarations, straight from the database on every use.

There is no per-process cache: a file loaded while the portal runs is seen by the next call in every web and
worker process.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from registry.sites import LegalBasis
from registry.taxonomy import category_label
from systems.models import Action, ExternalSystem, Kind, SystemDataset, SystemField, SystemRetentionRule


def _with_datasets(qs: QuerySet[ExternalSystem]) -> QuerySet[ExternalSystem]:
    return qs.prefetch_related(
        Prefetch(
            "datasets",
            queryset=SystemDataset.objects.order_by("pk").prefetch_related(
                Prefetch("fields", queryset=SystemField.objects.order_by("pk")),
                Prefetch("retention_rules", queryset=SystemRetentionRule.objects.order_by("pk")),
            ),
        )
    )


def list_sql_systems(*, action: str | None = None) -> list[ExternalSystem]:
    """SQL systems with their datasets, fields and rules; only those supporting ``action`` when given."""
    systems = list(_with_datasets(ExternalSystem.objects.filter(kind=Kind.SQL).order_by("name", "key")))
    return [s for s in systems if action is None or s.supports(action)]


def get_system(*, key: str) -> ExternalSystem:
    """One system by key, with its datasets (raises ExternalSystem.DoesNotExist)."""
    return _with_datasets(ExternalSystem.objects.all()).get(key=key)


def list_retention_rules() -> list[tuple[ExternalSystem, SystemDataset, SystemRetentionRule]]:
    """Every retention rule of an SQL system that supports retention, with its system and dataset."""
    return [
        (system, dataset, rule)
        for system in list_sql_systems(action=Action.RETENTION)
        for dataset in system.datasets.all()
        for rule in dataset.retention_rules.all()
    ]


def dataset_information(*, system: ExternalSystem, dataset: SystemDataset) -> dict:
    """Art. 15 information for one external dataset, in the shape of ``fulfilment.exports.dataset_information``."""
    fields = list(dataset.fields.all())
    return {
        "label": f"{system.key}.{dataset.table}",
        "title": dataset.title,
        "description": dataset.description,
        "system": system.name,
        "categories": sorted({category_label(f.category) for f in fields}),
        "purposes": sorted({f.purpose for f in fields}),
        "legal_bases": [LegalBasis.label(b) for b in sorted({f.legal_basis for f in fields})],
        "recipients": sorted({r for f in fields for r in f.recipients}),
        "sources": [],
        "retention": [
            _period(rule.period_days)
            + (f": {rule.description or rule.legal_basis}" if rule.description or rule.legal_basis else "")
            for rule in dataset.retention_rules.all()
        ],
    }


def declared_columns_for_record() -> list[dict]:
    """Every declared column of every system, as the record of processing groups them by purpose."""
    rows = []
    datasets = SystemDataset.objects.select_related("system").prefetch_related("fields", "retention_rules")
    for dataset in datasets:
        retention = [
            _period(rule.period_days)
            + (f": {rule.description or rule.legal_basis}" if rule.description or rule.legal_basis else "")
            for rule in dataset.retention_rules.all()
        ]
        for f in dataset.fields.all():
            rows.append(
                {
                    "dataset_title": f"{dataset.system.name}: {dataset.title or dataset.table}",
                    "purpose": f.purpose,
                    "category": f.category,
                    "legal_basis": f.legal_basis,
                    "recipients": list(f.recipients),
                    "retention": retention,
                }
            )
    return rows


def _period(days: int) -> str:
    return f"{days // 365} years" if days % 365 == 0 else f"{days} days"


def external_dataset_labels() -> list[tuple[str, str]]:
    """Every declared table of every system as (``<system key>.<table>``, "<system>: <title>"), for legal holds."""
    rows = SystemDataset.objects.select_related("system").order_by("system__name", "table")
    return [(f"{d.system.key}.{d.table}", f"{d.system.name}: {d.title or d.table}") for d in rows]


def list_task_systems(*, action: str) -> list[ExternalSystem]:
    """HTTP and manual systems that take part in ``action`` (a signed call, or a task for their owner)."""
    systems = _with_datasets(ExternalSystem.objects.filter(kind__in=[Kind.HTTP, Kind.MANUAL]).order_by("name", "key"))
    return [s for s in systems if s.supports(action)]


def undeclared_titles(*, system: ExternalSystem) -> list[str]:
    """Titles the system has answered with that it still does not declare as datasets (from its audit trail)."""
    from audit.selectors import list_object_events

    seen: set[str] = set()
    for event in list_object_events(obj=system).filter(verb="undeclared_data"):
        if isinstance(event.new, list):
            seen.update(str(t) for t in event.new)
    declared = set(system.datasets.values_list("title", flat=True))
    return sorted(seen - declared)
