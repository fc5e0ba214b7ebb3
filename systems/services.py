"""Writes of connected-system declarations: loading a systems file, accepting a discovered proposal."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import yaml
from django.db import transaction

from audit.services import changes, record_event
from systems.declarations import DatasetSpec, SystemSpec, parse_systems_file
from systems.models import ExternalSystem, Kind, SystemDataset, SystemField, SystemRetentionRule

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

logger = logging.getLogger(__name__)


class _Flow(dict):
    """A mapping written on one line, as the README writes owners, connections and fields."""


class _FlowList(list):
    pass


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)  # list items indented under their key, as people write them


_Dumper.add_representer(_Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True))
_Dumper.add_representer(_FlowList, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True))


@transaction.atomic
def load_systems(*, text: str, actor: AbstractBaseUser | str | None = None) -> list[ExternalSystem]:
    """Validate a whole systems file, then create or update each system it names and replace its datasets.

    Records one audit event per system whose declaration changed (``actor`` None: the portal's command).
    """
    spec = parse_systems_file(text)  # raises InvalidSystemsFile before anything is written
    systems = []
    for system_spec in spec.systems:
        existing = ExternalSystem.objects.filter(key=system_spec.key).first()
        old = system_document(existing) if existing else None
        system = _save_system(spec=system_spec)
        _record(system=system, old=old, actor=actor or "load_systems", verb="loaded")
        systems.append(system)
    logger.info("systems loaded: %s", ", ".join(s.key for s in systems))
    return systems


def _record(*, system: ExternalSystem, old: dict | None, actor: AbstractBaseUser | str | None, verb: str) -> None:
    new = system_document(system)
    before, after = changes(old or {}, new)
    if before or after:
        record_event(actor=actor, obj=system, verb=verb, old=before, new=after)


def record_declaration_edit(*, system: ExternalSystem, old: dict | None, actor: AbstractBaseUser | None) -> None:
    """Append the audit event of a declaration edited in admin (what changed, before and after)."""
    _record(system=system, old=old, actor=actor, verb="changed")


def _save_system(*, spec: SystemSpec) -> ExternalSystem:
    system, _ = ExternalSystem.objects.update_or_create(
        key=spec.key,
        defaults={
            "name": spec.name,
            "owner_name": spec.owner.name,
            "owner_email": spec.owner.email,
            "kind": spec.kind,
            "url_env": spec.connection.url_env if spec.connection else "",
            "url": spec.url or "",
            "secret_env": spec.secret_env or "",
            "timeout": spec.timeout if spec.timeout is not None else 10.0,
            "actions": list(spec.actions),
        },
    )
    replace_datasets(system=system, datasets=spec.datasets)
    return system


def replace_datasets(*, system: ExternalSystem, datasets: list[DatasetSpec]) -> None:
    """Make ``system``'s datasets exactly ``datasets``, keyed by table (kept rows keep their ids)."""
    system.datasets.exclude(table__in=[d.table for d in datasets]).delete()
    for spec in datasets:
        dataset, _ = SystemDataset.objects.update_or_create(
            system=system,
            table=spec.table,
            defaults={
                "title": spec.title,
                "description": spec.description,
                "identity": dict(spec.identity),
                "references": dict(spec.references),
                "other_columns": list(spec.other_columns),
            },
        )
        dataset.fields.all().delete()
        SystemField.objects.bulk_create(
            SystemField(
                dataset=dataset,
                name=f.name,
                category=f.category,
                purpose=f.purpose,
                legal_basis=f.legal_basis,
                recipients=list(f.recipients),
                strategy=f.erase,
                keep_reason=f.keep_reason,
                secret=f.secret,
                rectifiable=f.rectifiable,
                description=f.description,
            )
            for f in spec.fields
        )
        dataset.retention_rules.all().delete()
        SystemRetentionRule.objects.bulk_create(
            SystemRetentionRule(
                dataset=dataset,
                name=r.name,
                period_days=r.period_days,
                date_field=r.date_field,
                action=r.action,
                fields=list(r.fields),
                legal_basis=r.legal_basis,
                description=r.description,
            )
            for r in spec.retention
        )
    system.save(update_fields=["updated_at"])


def system_document(system: ExternalSystem) -> dict:
    """One system as the systems file writes it (defaults left out, so a dump reads like a hand-written file)."""
    doc: dict = {
        "key": system.key,
        "name": system.name,
        "owner": _Flow(name=system.owner_name, email=system.owner_email),
    }
    if system.kind != Kind.SQL:
        doc["kind"] = system.kind
    if system.kind == Kind.SQL:
        doc["connection"] = _Flow(url_env=system.url_env)
    if system.kind == Kind.HTTP:
        doc["url"] = system.url
        if system.secret_env:
            doc["secret_env"] = system.secret_env
        doc["timeout"] = system.timeout
    doc["actions"] = _FlowList(system.actions)
    datasets = [dataset_document(d) for d in system.datasets.prefetch_related("fields", "retention_rules")]
    if datasets or system.kind == Kind.SQL:
        doc["datasets"] = datasets
    return doc


def dataset_document(dataset: SystemDataset) -> dict:
    doc: dict = {"table": dataset.table, "title": dataset.title}
    if dataset.description:
        doc["description"] = dataset.description
    if dataset.identity:
        doc["identity"] = _Flow(dataset.identity)
    if dataset.references:
        doc["references"] = _Flow(dataset.references)
    doc["fields"] = []
    for f in dataset.fields.all():
        field = _Flow(name=f.name, category=f.category, purpose=f.purpose, legal_basis=f.legal_basis)
        field["erase"] = f.strategy
        for attr in ("keep_reason", "description"):
            if getattr(f, attr):
                field[attr] = getattr(f, attr)
        if f.recipients:
            field["recipients"] = _FlowList(f.recipients)
        for attr in ("secret", "rectifiable"):
            if getattr(f, attr):
                field[attr] = True
        doc["fields"].append(field)
    rules = []
    for r in dataset.retention_rules.all():
        rule = _Flow(name=r.name, period_days=r.period_days, date_field=r.date_field, action=r.action)
        if r.fields:
            rule["fields"] = _FlowList(r.fields)
        for attr in ("legal_basis", "description"):
            if getattr(r, attr):
                rule[attr] = getattr(r, attr)
        rules.append(rule)
    if rules:
        doc["retention"] = rules
    if dataset.other_columns:
        doc["other_columns"] = _FlowList(dataset.other_columns)
    return doc


def dump_systems_text(*, keys: list[str] | None = None) -> str:
    """Every declared system (or those keyed ``keys``) as a systems file that ``load_systems`` reads back."""
    systems = ExternalSystem.objects.order_by("key")
    if keys:
        systems = systems.filter(key__in=keys)
    return _dump({"systems": [system_document(s) for s in systems]})


def _dump(data: dict) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100_000, indent=2)


def proposal_text(*, system: ExternalSystem, datasets: list[dict]) -> str:
    """``system`` with ``datasets`` in its place, as a systems file."""
    doc = system_document(system)
    doc["datasets"] = datasets
    return _dump({"systems": [doc]})


@transaction.atomic
def accept_proposal(
    *, system: ExternalSystem, datasets: list[dict], actor: AbstractBaseUser | None = None
) -> ExternalSystem:
    """Make a reviewed discovery proposal the system's declaration (validated like a systems file), audited."""
    spec = parse_systems_file(proposal_text(system=system, datasets=datasets))
    old = system_document(system)
    system = _save_system(spec=spec.systems[0])
    _record(system=system, old=old, actor=actor or "discover_system", verb="discovery_accepted")
    logger.info("discovery proposal accepted for %s", system.key)
    return system


def note_undeclared_titles(*, system: ExternalSystem, titles: list[str], request_reference: str = "") -> list[str]:
    """Record, on the system's trail, the dataset titles it answered with that it does not declare (their data is
    exported all the same); the system's admin page asks staff to declare them. Returns those titles."""
    declared = set(system.datasets.values_list("title", flat=True))
    undeclared = sorted({t for t in titles if t not in declared})
    if undeclared:
        record_event(
            actor=system.name,
            obj=system,
            verb="undeclared_data",
            new=undeclared,
            note="Sent data under titles it does not declare: " + ", ".join(undeclared),
            request_reference=request_reference,
        )
    return undeclared
