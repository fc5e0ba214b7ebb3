"""Reads of connected-system declarations, straight from the database on every use.

There is no per-process cache: a file loaded while the portal runs is seen by the next call in every web and
worker process.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

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
