"""Fulfilment in the organisation's connected SQL systems: the export's external datasets, the erasure's
external steps, and the holds that reach them.

The work in each database is the ``systems`` app's (``systems.operations``); this module fits it into the
export ZIP, the erasure run's steps and checkpoints, and the audit trail. A system that cannot be reached
raises ``SystemUnavailable``: the caller records "waiting on <system>: <reason>" and retries later, so that
nothing completes without it.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections.abc import Callable
from typing import TYPE_CHECKING

import sqlalchemy as sa
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from core import csvsafe
from fulfilment.models import ErasureStep
from systems import operations, selectors
from systems.engine import SystemUnavailable, classified
from systems.models import Action, ExternalSystem

if TYPE_CHECKING:
    from registry.selectors import HoldScope
    from registry.subjects import Subject

STEP_PREFIX = "system:"  # an erasure step's dataset for a connected system: "system:<key>"

__all__ = ["STEP_PREFIX", "SystemUnavailable"]


def identities(subject: Subject) -> operations.Identities:
    """The person as the connected systems know them: their verified addresses and portal account ids."""
    return operations.Identities.of(emails=subject.emails, user_ids=subject.user_ids)


def step_label(system: ExternalSystem) -> str:
    return f"{STEP_PREFIX}{system.key}"


def system_of_step(step: ErasureStep) -> ExternalSystem | None:
    """The connected system an erasure step works in, or None for an in-process dataset (or a removed system)."""
    if not step.dataset.startswith(STEP_PREFIX):
        return None
    key = step.dataset[len(STEP_PREFIX) :]
    return next((s for s in selectors.list_sql_systems(action=Action.ERASURE) if s.key == key), None)


def held_tables(scope: HoldScope) -> list[tuple[str, str]]:
    """(system key, table) pairs under a dataset hold: a hold names an external table as ``<key>.<table>``."""
    pairs = []
    for label in scope.held_labels:
        key, _, table = label.partition(".")
        if table:
            pairs.append((key, table))
    return pairs


# --- access ---------------------------------------------------------------------------------------------------


def write_datasets(zf: zipfile.ZipFile, subject: Subject, on_rows: Callable[[int], None]) -> dict[str, int]:
    """Write every access-enabled system's datasets of ``subject`` into the export; returns rows per label.

    Rows stream from the database into the JSON file; the CSV copy is spooled to a temporary file meanwhile
    (the ZIP takes one open entry at a time), so memory stays flat however many rows a person has.
    """
    who = identities(subject)
    counts: dict[str, int] = {}
    if not (who.emails or who.user_ids):
        return counts
    for system in selectors.list_sql_systems(action=Action.ACCESS):
        for rows in operations.iter_person_rows(system=system, who=who):
            label = f"{system.key}.{rows.dataset.table}"
            counts[label] = _write_rows(zf, system, label, rows, on_rows)
    return counts


def _write_rows(
    zf: zipfile.ZipFile,
    system: ExternalSystem,
    label: str,
    rows: operations.DatasetRows,
    on_rows: Callable[[int], None],
) -> int:
    slug = label.replace(".", "_").lower()
    count = pending = 0
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool:
        writer = csvsafe.writer(spool)
        writer.writerow(rows.columns)
        with zf.open(f"json/{slug}.json", "w", force_zip64=True) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            header = {
                "dataset": label,
                "system": system.name,
                "title": rows.dataset.title,
                "fields": rows.columns,
                "withheld": rows.withheld,
            }
            out.write(json.dumps(header, ensure_ascii=False)[:-1] + ', "rows": [\n')
            for row in rows.rows:
                if count:
                    out.write(",\n")
                out.write(json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False))
                writer.writerow([_cell(row.get(c)) for c in rows.columns])
                count += 1
                pending += 1
                if pending >= 500:
                    on_rows(pending)
                    pending = 0
            out.write("\n]}\n")
            out.flush()
            out.detach()
        if pending:
            on_rows(pending)
        spool.seek(0)
        with zf.open(f"csv/{slug}.csv", "w", force_zip64=True) as raw:
            while chunk := spool.read(64 * 1024):
                raw.write(chunk.encode("utf-8"))
    return count


def _cell(value: object) -> object:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else value


def dataset_information(counts: dict[str, int]) -> list[dict]:
    """The report's entries for the external datasets: purpose, legal basis, recipients and retention."""
    info = []
    for system in selectors.list_sql_systems(action=Action.ACCESS):
        for dataset in system.datasets.all():
            entry = selectors.dataset_information(system=system, dataset=dataset)
            entry["rows"] = counts.get(entry["label"])
            entry["file"] = f"json/{entry['label'].replace('.', '_').lower()}.json"
            info.append(entry)
    return info


# --- erasure --------------------------------------------------------------------------------------------------


def erasure_systems() -> list[ExternalSystem]:
    return selectors.list_sql_systems(action=Action.ERASURE)


def plan_system(system: ExternalSystem, subject: Subject, scope: HoldScope) -> dict:
    """The dry run in one system: rows per table and per strategy, holds and problems (counts only)."""
    plan: dict = {"dataset": step_label(system), "title": system.name, "system": True, "tables": [], "kept": []}
    if _subject_held(subject, scope):
        plan["held"] = True
        plan["kept"].append({"reason": "legal hold on the person", "hold": True})
        return plan
    try:
        tables = operations.preview_erasure(system=system, who=identities(subject), held=held_tables(scope))
    except SystemUnavailable as exc:
        plan["unavailable"] = exc.reason
        return plan
    plan["rows"] = sum(t.rows for t in tables)
    plan["tables"] = [
        {"table": t.table, "title": t.title, "rows": t.rows, "counts": t.counts, "held": t.held, "problems": t.problems}
        for t in tables
    ]
    return plan


def _subject_held(subject: Subject, scope: HoldScope) -> bool:
    return any(scope.holds_subject(user_id=pk) for pk in subject.user_ids) or any(
        scope.holds_subject(email=e) for e in subject.emails
    )


def erase_system(step: ErasureStep, system: ExternalSystem, subject: Subject, scope: HoldScope) -> ErasureStep:
    """Run (or resume) the erasure in one system, saving the checkpoint after every batch.

    The database commits each batch itself, so the checkpoint is saved outside any portal transaction: a
    crash between the two redoes one batch, which changes nothing more (the strategies are idempotent).
    """
    if _subject_held(subject, scope):
        step.state, step.kept = ErasureStep.State.KEPT, [{"reason": "legal hold on the person", "hold": True}]
        step.finished_at = timezone.now()
        step.save(update_fields=["state", "kept", "finished_at"])
        return step
    saved = (step.counts or {}).get("checkpoint")
    checkpoint = operations.ErasureCheckpoint.from_dict(saved) if saved else None

    def persist(cp: operations.ErasureCheckpoint) -> None:
        ErasureStep.objects.filter(pk=step.pk).update(counts={"checkpoint": cp.to_dict()})

    checkpoint = operations.apply_erasure(
        system=system, who=identities(subject), checkpoint=checkpoint, held=held_tables(scope), on_batch=persist
    )
    totals: dict[str, int] = {}
    kept = []
    for table, progress in checkpoint.tables.items():
        for strategy, n in progress.counts.items():
            totals[strategy] = totals.get(strategy, 0) + n
        if progress.held:
            kept.append({"table": table, "reason": progress.held, "hold": True})
    for dataset in system.datasets.all():
        for f in dataset.fields.all():
            if f.strategy == "keep":
                kept.append({"table": dataset.table, "field": f.name, "reason": f.keep_reason})
    step.state = ErasureStep.State.DONE
    step.counts = {**totals, "checkpoint": checkpoint.to_dict()}
    step.kept = kept
    step.finished_at = timezone.now()
    step.save(update_fields=["state", "counts", "kept", "finished_at"])
    return step


def report_counts(step: ErasureStep) -> dict[str, int]:
    """A system step's counts for the run report (without its checkpoint)."""
    return {k: v for k, v in (step.counts or {}).items() if k != "checkpoint"}


# --- rectification --------------------------------------------------------------------------------------------


def rectifiable_rows(subject: Subject, *, limit: int = 20) -> list[dict]:
    """The person's rows in connected systems whose declared fields are marked rectifiable, for the staff page.

    A system that does not answer is listed with its reason instead of its rows.
    """
    who = identities(subject)
    out: list[dict] = []
    if not (who.emails or who.user_ids):
        return out
    for system in selectors.list_sql_systems(action=Action.RECTIFICATION):
        try:
            graph = operations.SystemGraph(system)
            for table, dataset in graph.datasets.items():
                t = graph.tables[table]
                names = [f.name for f in dataset.fields.all() if f.rectifiable and not f.secret and f.name in t.c]
                pk = graph.primary_key(table)
                cond = graph.condition(table, who)
                if not names or len(pk) != 1 or cond is None:
                    continue
                stmt = sa.select(pk[0], *[t.c[n] for n in names]).where(cond).order_by(pk[0]).limit(limit)
                with classified(system), graph.engine.connect() as conn:
                    rows = conn.execute(stmt).all()
                for row in rows:
                    out.append(
                        {
                            "dataset": f"{STEP_PREFIX}{system.key}.{table}",
                            "title": f"{system.name}: {dataset.title or table}",
                            "pk": row[0],
                            "fields": {n: row._mapping[t.c[n]] for n in names},
                            "multiline": [],
                        }
                    )
        except SystemUnavailable as exc:
            out.append({"dataset": step_label(system), "title": system.name, "unavailable": exc.reason})
    return out


def rectify(subject: Subject, *, dataset: str, pk: int | str, field: str, value: str) -> tuple[object, str]:
    """Correct one rectifiable field of one of the person's rows in a connected system.

    ``dataset`` is ``system:<key>.<table>``. Returns (old value, the dataset's title); a row that is not the
    person's, or a field that is not rectifiable, is refused with ``ValueError``.
    """
    key, _, table = dataset[len(STEP_PREFIX) :].partition(".")
    system = next((s for s in selectors.list_sql_systems(action=Action.RECTIFICATION) if s.key == key), None)
    if system is None or not table:
        raise ValueError("not a connected system's table")
    graph = operations.SystemGraph(system)
    if table not in graph.datasets:
        raise ValueError("not a declared table")
    pk_columns = graph.primary_key(table)
    if len(pk_columns) != 1:
        raise ValueError("rows of this table cannot be told apart")
    column = pk_columns[0]
    try:
        key_value = column.type.python_type(pk)
    except (TypeError, ValueError, NotImplementedError):
        raise ValueError("not a valid key") from None
    diff = operations.rectify_row(
        system=system, table=table, key={column.name: key_value}, changes={field: value}, who=identities(subject)
    )
    old = diff.get(field, (value, value))[0]
    return old, f"{system.name}: {graph.datasets[table].title or table}"
