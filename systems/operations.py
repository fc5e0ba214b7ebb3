"""What the portal does in a connected SQL database: find a person's rows, export, erase, rectify, expire.

A person's rows are found from the identity columns, then through the declared references, transitively:
``order_items.order_id -> orders.id -> orders.customer_id -> customers.id`` with ``customers.email`` as the
identity. The whole chain is one SQL condition of nested sub-selects, so no key list is held in memory. An
export reads each table in one query through a server-side cursor; changes go in batches (keyset batches over
the primary key for updates, keys streamed once for deletes), each committed on its own. Every query goes through SQLAlchemy with
bound parameters; table and column names come from reflected ``Table`` objects and are quoted by the dialect.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

from registry.checks import looks_secret
from registry.strategies import MASK_TEXT, PSEUDONYM_LENGTH, Strategy, mask, pseudonymise, pseudonymise_uuid
from systems.engine import SystemUnavailable, classified, engine_for, reflect_tables
from systems.models import ExternalSystem, IdentityKind, Kind, RetentionAction, SystemDataset, SystemRetentionRule

# Rows per batch and per commit in a connected database: as in-process erasure; each commit is a round trip
# and a flush there, and a checkpoint write here.
BATCH_SIZE = 2000
FIELD_STRATEGIES = (Strategy.NULL, Strategy.MASK, Strategy.PSEUDONYMISE)


@dataclass(frozen=True)
class Identities:
    """Who the rows must belong to: the person's e-mail addresses and portal account ids."""

    emails: tuple[str, ...] = ()
    user_ids: tuple = ()

    @classmethod
    def of(cls, *, emails: Iterable[str] = (), user_ids: Iterable = ()) -> Identities:
        return cls(
            emails=tuple(sorted({e.strip().lower() for e in emails if e and e.strip()})),
            user_ids=tuple(u for u in user_ids if u is not None),
        )


class SystemGraph:
    """A system's declared datasets over their reflected tables, and the conditions that reach a person."""

    def __init__(self, system: ExternalSystem):
        if system.kind != Kind.SQL:
            raise ValueError(f"{system.name} is not a database")
        self.system = system
        self.datasets: dict[str, SystemDataset] = {d.table: d for d in system.datasets.all()}
        self.engine = engine_for(system)
        self.tables = reflect_tables(system, self.engine, list(self.datasets))

    def primary_key(self, table: str) -> list[sa.Column]:
        return list(self.tables[table].primary_key.columns)

    def children(self, table: str) -> list[tuple[str, str, str]]:
        """(child table, its column, our column) for each declared reference to ``table``."""
        return [
            (child, column, target.split(".", 1)[1])
            for child, ds in self.datasets.items()
            for column, target in ds.references.items()
            if target.split(".", 1)[0] == table and child != table
        ]

    def condition(self, table: str, who: Identities, _path: tuple[str, ...] = ()) -> sa.ColumnElement[bool] | None:
        """SQL condition for ``table``'s rows that belong to ``who``; None when no row can."""
        ds, t = self.datasets[table], self.tables[table]
        clauses = []
        for kind, column in ds.identity.items():
            col = t.c[column]
            if kind == IdentityKind.EMAIL and who.emails:
                clauses.append(sa.func.lower(col).in_(list(who.emails)))
            elif kind == IdentityKind.USER_ID and who.user_ids:
                as_text = isinstance(col.type, sa.String)
                clauses.append(col.in_([str(u) if as_text else u for u in who.user_ids]))
        for column, target in ds.references.items():
            parent, parent_column = target.split(".", 1)
            if parent == table or parent in _path:
                continue  # a cycle adds no rows the other paths do not reach
            inner = self.condition(parent, who, (*_path, table))
            if inner is not None:
                clauses.append(t.c[column].in_(sa.select(self.tables[parent].c[parent_column]).where(inner)))
        return sa.or_(*clauses) if clauses else None

    def erase_order(self) -> list[str]:
        """Tables with those that refer to others first (children before parents)."""
        order, state = [], {}

        def visit(table):
            if state.get(table):
                return
            state[table] = True
            for child, _col, _target in self.children(table):
                visit(child)
            order.append(table)

        for table in self.datasets:
            visit(table)
        return order

    def exported_columns(self, table: str) -> tuple[list[sa.Column], list[str]]:
        """Columns an export holds, and the names withheld as credentials."""
        declared = {f.name: f for f in self.datasets[table].fields.all()}
        shown, withheld = [], []
        for col in self.tables[table].columns:
            f = declared.get(col.name)
            secret = f.secret if f is not None else looks_secret(col.name)
            (withheld.append(col.name) if secret else shown.append(col))
        return shown, withheld


def _keyset(stmt, pk: list[sa.Column], last: list | None):
    if last is None:
        return stmt
    if len(pk) == 1:
        return stmt.where(pk[0] > last[0])
    return stmt.where(sa.tuple_(*pk) > sa.tuple_(*[sa.literal(v) for v in last]))


def _pk_values(row, pk: list[sa.Column]) -> list:
    return [_jsonable_key(row._mapping[c]) for c in pk]


def _jsonable_key(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _pk_match(pk: list[sa.Column], keys: list[list]):
    if len(pk) == 1:
        return pk[0].in_([k[0] for k in keys])
    return sa.tuple_(*pk).in_([tuple(k) for k in keys])


# --- access ---------------------------------------------------------------------------------------------------


@dataclass
class DatasetRows:
    """One dataset's rows for an export: read lazily, batch by batch."""

    dataset: SystemDataset
    columns: list[str]
    withheld: list[str]
    rows: Iterator[dict]


def iter_person_rows(*, system: ExternalSystem, who: Identities, batch_size: int = BATCH_SIZE) -> Iterator[DatasetRows]:
    """Each dataset of ``system`` with an iterator over ``who``'s rows (bounded memory; consume in order)."""
    graph = SystemGraph(system)
    for table, dataset in graph.datasets.items():
        shown, withheld = graph.exported_columns(table)
        yield DatasetRows(
            dataset=dataset,
            columns=[c.name for c in shown],
            withheld=withheld,
            rows=_stream(graph, table, who, shown, batch_size),
        )


def _stream(graph: SystemGraph, table: str, who: Identities, shown, batch_size: int) -> Iterator[dict]:
    cond = graph.condition(table, who)
    if cond is None:
        return
    pk = graph.primary_key(table)
    # One query through a server-side cursor, fetched batch by batch. Keyset pages would each re-evaluate
    # the whole reference chain (all the person's rows, sorted, to keep the next page): quadratic in rows.
    stmt = sa.select(*shown).where(cond).order_by(*pk)
    keys = [(c.name, i) for i, c in enumerate(shown)]
    with classified(graph.system), graph.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch_size).execute(stmt)
        try:
            for row in result:
                yield {name: row[i] for name, i in keys}
        finally:
            result.close()  # a reader that stops early leaves the connection clean for the pool


# --- erasure --------------------------------------------------------------------------------------------------


@dataclass
class TablePlan:
    """What an erasure does to one table: rows matched, rows per strategy, and why it may not be done."""

    table: str
    title: str
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    held: bool = False
    problems: list[str] = field(default_factory=list)


def _strategies(graph: SystemGraph, table: str) -> dict[str, list[str]]:
    by_strategy: dict[str, list[str]] = {}
    for f in graph.datasets[table].fields.all():
        if f.name in graph.tables[table].c:
            by_strategy.setdefault(f.strategy, []).append(f.name)
    return by_strategy


def held_tables(graph: SystemGraph, held: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Tables of this system that are held, with why: a held table also holds the rows it refers to."""
    held_here = {table for key, table in held if key == graph.system.key and table in graph.datasets}
    out = {t: "held" for t in held_here}
    todo = list(held_here)
    while todo:
        table = todo.pop()
        for target in graph.datasets[table].references.values():
            parent = target.split(".", 1)[0]
            if parent not in out and Strategy.DELETE in _strategies(graph, parent):
                out[parent] = f"held: {table} refers to it"
                todo.append(parent)
    return out


def _problems(graph: SystemGraph, table: str, by_strategy: dict[str, list[str]]) -> list[str]:
    t, problems = graph.tables[table], []
    if not graph.primary_key(table):
        problems.append("no primary key: erased in one statement, without resume")
    for strategy in FIELD_STRATEGIES:
        for name in by_strategy.get(strategy, []):
            col = t.c[name]
            length = getattr(col.type, "length", None)
            if strategy == Strategy.NULL and not col.nullable:
                problems.append(f"{name} cannot be empty, so it cannot be cleared")
            elif strategy == Strategy.PSEUDONYMISE and length and length < PSEUDONYM_LENGTH:
                problems.append(f"{name} holds {length} characters, a pseudonym needs {PSEUDONYM_LENGTH}")
    return problems


def preview_erasure(
    *, system: ExternalSystem, who: Identities, held: Iterable[tuple[str, str]] = ()
) -> list[TablePlan]:
    """Rows per table and per strategy that an erasure of ``who`` would change (reads counts only)."""
    graph = SystemGraph(system)
    holds = held_tables(graph, held)
    plans = []
    with classified(system), graph.engine.connect() as conn:
        for table in graph.erase_order():
            by_strategy = _strategies(graph, table)
            cond = graph.condition(table, who)
            rows = (
                conn.execute(sa.select(sa.func.count()).select_from(graph.tables[table]).where(cond)).scalar_one()
                if cond is not None
                else 0
            )
            plan = TablePlan(table=table, title=graph.datasets[table].title, rows=rows, held=table in holds)
            deletes = Strategy.DELETE in by_strategy
            for strategy in by_strategy:
                if not deletes or strategy == Strategy.DELETE:
                    plan.counts[strategy] = rows
            plan.problems = _problems(graph, table, by_strategy)
            if table in holds:
                plan.problems.insert(0, holds[table])
            plans.append(plan)
    return plans


@dataclass
class TableProgress:
    """How far an erasure got in one table: the last primary key done and the rows changed per strategy."""

    done: bool = False
    last_pk: list | None = None
    counts: dict[str, int] = field(default_factory=dict)
    held: str = ""


@dataclass
class ErasureCheckpoint:
    """Resumable state of one person's erasure in one system; ``to_dict`` is JSON for the caller to store."""

    system: str
    tables: dict[str, TableProgress] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return bool(self.tables) and all(p.done for p in self.tables.values())

    def to_dict(self) -> dict:
        return {
            "system": self.system,
            "tables": {
                t: {"done": p.done, "last_pk": p.last_pk, "counts": dict(p.counts), "held": p.held}
                for t, p in self.tables.items()
            },
        }

    @classmethod
    def from_dict(cls, data: dict) -> ErasureCheckpoint:
        return cls(
            system=data["system"],
            tables={
                t: TableProgress(done=p["done"], last_pk=p["last_pk"], counts=dict(p["counts"]), held=p.get("held", ""))
                for t, p in data.get("tables", {}).items()
            },
        )


def _new_value(strategy: str, col: sa.Column, value):
    """The erased value of one cell, by the same rules as in-process fields (``registry.strategies``)."""
    if strategy == Strategy.NULL or value is None:
        return None
    if isinstance(col.type, sa.Uuid):
        return pseudonymise_uuid(value) if strategy == Strategy.PSEUDONYMISE else None
    if not isinstance(col.type, sa.String):
        return None  # a number or a date cannot hold a mask or a pseudonym: it is cleared
    return pseudonymise(value) if strategy == Strategy.PSEUDONYMISE else mask(value)


def _update_rows(conn, t: sa.Table, pk, rows, by_column: dict[str, str]) -> None:
    params = []
    for row in rows:
        p = {f"k_{i}": row._mapping[c] for i, c in enumerate(pk)}
        for name, strategy in by_column.items():
            p[f"v_{name}"] = _new_value(strategy, t.c[name], row._mapping[t.c[name]])
        params.append(p)
    stmt = (
        sa.update(t)
        .where(*[c == sa.bindparam(f"k_{i}") for i, c in enumerate(pk)])
        .values({name: sa.bindparam(f"v_{name}") for name in by_column})
    )
    conn.execute(stmt, params)


def apply_erasure(
    *,
    system: ExternalSystem,
    who: Identities,
    checkpoint: ErasureCheckpoint | None = None,
    held: Iterable[tuple[str, str]] = (),
    on_batch: Callable[[ErasureCheckpoint], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ErasureCheckpoint:
    """Erase ``who``'s rows table by table (children first), resuming from ``checkpoint``.

    Each batch commits in the external database, then ``on_batch`` gets the checkpoint to persist. A batch
    redone after a crash between the two changes nothing more: masks, pseudonyms and deletes are idempotent.
    """
    graph = SystemGraph(system)
    checkpoint = checkpoint or ErasureCheckpoint(system=system.key)
    holds = held_tables(graph, held)
    for table in graph.erase_order():
        progress = checkpoint.tables.setdefault(table, TableProgress())
        if progress.done:
            continue
        if table in holds:
            progress.held, progress.done = holds[table], True
            continue
        _erase_table(graph, table, who, progress, checkpoint, on_batch, batch_size)
    return checkpoint


def _sql_value(strategy: str, col: sa.Column):
    """The erased value as an SQL expression, for null and mask (the same rules as ``_new_value``)."""
    if strategy == Strategy.MASK and isinstance(col.type, sa.String) and not isinstance(col.type, sa.Uuid):
        return sa.case((sa.or_(col.is_(None), col == ""), col), else_=sa.literal(MASK_TEXT, col.type))
    return None


def _update_keyless(conn, t: sa.Table, cond, by_column: dict[str, str]) -> int:
    """Erase the rows matching ``cond`` (a keyless table's, or one batch's keys), in statements that each change whole rows.

    A pseudonym is computed in Python, so rows are updated per distinct value of the pseudonymised columns;
    everything else a row needs changes in the same statement, so that ``cond`` still matches it.
    """
    hashed = [
        n for n, s in by_column.items() if s == Strategy.PSEUDONYMISE and isinstance(t.c[n].type, sa.String | sa.Uuid)
    ]
    fixed = {n: _sql_value(s, t.c[n]) for n, s in by_column.items() if n not in hashed}
    if not hashed:
        return conn.execute(sa.update(t).where(cond).values(fixed)).rowcount
    groups = conn.execute(sa.select(*[t.c[n] for n in hashed]).where(cond).distinct()).all()
    changed = 0
    for group in groups:
        same = [t.c[n].is_(None) if v is None else t.c[n] == v for n, v in zip(hashed, group, strict=True)]
        values = {
            **fixed,
            **{n: _new_value(Strategy.PSEUDONYMISE, t.c[n], v) for n, v in zip(hashed, group, strict=True)},
        }
        changed += conn.execute(sa.update(t).where(cond, *same).values(values)).rowcount
    return changed


def _delete_streamed(graph, t, pk, cond, progress, checkpoint, on_batch, batch_size) -> None:
    """Delete the matching rows by batches of keys read once, through a server-side cursor on a second connection.

    Selecting each batch anew walks the reference chain past every row already deleted: quadratic in the
    person's rows. The reading connection only reads (no locks), each batch commits on its own; SQLite, whose
    open reader would block the writer's commits, takes the general loop instead.
    """
    with graph.engine.connect() as reader:
        result = reader.execution_options(stream_results=True, yield_per=batch_size).execute(sa.select(*pk).where(cond))
        try:
            for keys in result.partitions(batch_size):
                with graph.engine.begin() as conn:
                    n = conn.execute(sa.delete(t).where(_pk_match(pk, [list(k) for k in keys]))).rowcount
                progress.counts[Strategy.DELETE] = progress.counts.get(Strategy.DELETE, 0) + n
                if on_batch:
                    on_batch(checkpoint)
        finally:
            result.close()


def _erase_table(graph, table, who, progress, checkpoint, on_batch, batch_size) -> None:
    t, pk = graph.tables[table], graph.primary_key(table)
    by_strategy = _strategies(graph, table)
    cond = graph.condition(table, who)
    deletes = Strategy.DELETE in by_strategy
    by_column = {n: s for s, names in by_strategy.items() if s in FIELD_STRATEGIES for n in names}
    if cond is None or (not deletes and not by_column):
        progress.done = True
        if on_batch:
            on_batch(checkpoint)
        return
    with classified(graph.system):
        if not pk:
            with graph.engine.begin() as conn:
                if deletes:
                    n = conn.execute(sa.delete(t).where(cond)).rowcount
                    progress.counts[Strategy.DELETE] = progress.counts.get(Strategy.DELETE, 0) + n
                else:
                    n = _update_keyless(conn, t, cond, by_column)
                    for s in {*by_column.values()}:
                        progress.counts[s] = progress.counts.get(s, 0) + n
            progress.done = True
            if on_batch:
                on_batch(checkpoint)
            return
        if deletes and graph.engine.dialect.name != "sqlite":
            _delete_streamed(graph, t, pk, cond, progress, checkpoint, on_batch, batch_size)
        while True:  # what is left (all of it on SQLite): batches of whatever still matches
            with graph.engine.begin() as conn:
                if deletes:
                    # Deleted rows stop matching, so any batch that still matches will do: unordered, the
                    # database stops at the batch size instead of gathering and sorting all the rows left.
                    rows = conn.execute(sa.select(*pk).where(cond).limit(batch_size)).all()
                    n = conn.execute(sa.delete(t).where(_pk_match(pk, [list(r) for r in rows]))).rowcount if rows else 0
                    progress.counts[Strategy.DELETE] = progress.counts.get(Strategy.DELETE, 0) + n
                    finished = len(rows) < batch_size or not n
                else:
                    stmt = _keyset(sa.select(*pk).where(cond), pk, progress.last_pk).order_by(*pk).limit(batch_size)
                    rows = conn.execute(stmt).all()
                    if rows:
                        # One statement per distinct pseudonymised value in the batch, not one per row.
                        _update_keyless(conn, t, _pk_match(pk, [list(r) for r in rows]), by_column)
                        for s in {*by_column.values()}:
                            progress.counts[s] = progress.counts.get(s, 0) + len(rows)
                        progress.last_pk = _pk_values(rows[-1], pk)
                    finished = len(rows) < batch_size
            progress.done = finished
            if on_batch:
                on_batch(checkpoint)
            if progress.done:
                return


# --- rectification --------------------------------------------------------------------------------------------


def rectify_row(
    *, system: ExternalSystem, table: str, key: dict, changes: dict[str, object], who: Identities
) -> dict[str, tuple]:
    """Correct rectifiable columns of one of ``who``'s rows; returns {column: (old, new)} for the audit trail."""
    graph = SystemGraph(system)
    if table not in graph.datasets:
        raise ValueError(f"{table} is not a declared table of {system.name}")
    allowed = {f.name for f in graph.datasets[table].fields.all() if f.rectifiable and not f.secret}
    refused = sorted(set(changes) - allowed)
    if refused:
        raise ValueError(f"not correctable: {', '.join(refused)}")
    t, pk = graph.tables[table], graph.primary_key(table)
    if not pk or set(key) != {c.name for c in pk}:
        raise ValueError("give the row's primary key")
    cond = graph.condition(table, who)
    if cond is None:
        raise ValueError("this row is not the person's")
    where = sa.and_(cond, *[c == key[c.name] for c in pk])
    with classified(system), graph.engine.begin() as conn:
        row = conn.execute(sa.select(*[t.c[n] for n in changes]).where(where)).first()
        if row is None:
            raise ValueError("this row is not the person's")
        conn.execute(sa.update(t).where(where).values(dict(changes)))
    return {n: (row._mapping[t.c[n]], v) for n, v in changes.items() if row._mapping[t.c[n]] != v}


# --- retention ------------------------------------------------------------------------------------------------


@dataclass
class RetentionOutcome:
    """What one retention rule did (or, in a dry run, would do) in an external table."""

    rule: str
    table: str
    matched: int = 0
    changed: int = 0
    skipped_hold: int = 0  # expired rows of people under a legal hold, left alone
    cascaded: dict[str, int] = field(default_factory=dict)  # child rows deleted with expiring ones
    held: bool = False
    dry_run: bool = False


def _cutoff(col: sa.Column, now: dt.datetime, days: int):
    cutoff = now - dt.timedelta(days=days)
    if isinstance(col.type, sa.DateTime) and not getattr(col.type, "timezone", False) and cutoff.tzinfo:
        cutoff = cutoff.astimezone(dt.UTC).replace(tzinfo=None)  # naive columns are read as UTC
    elif isinstance(col.type, sa.Date) and not isinstance(col.type, sa.DateTime):
        cutoff = cutoff.date()
    return cutoff


def _delete_with_children(conn, graph: SystemGraph, table: str, where, counts: dict, _path=()) -> int:
    """Delete ``table``'s rows matching ``where`` after the declared rows that refer to them."""
    t = graph.tables[table]
    for child, column, target_column in graph.children(table):
        if child in _path:
            continue
        child_where = graph.tables[child].c[column].in_(sa.select(t.c[target_column]).where(where))
        n = _delete_with_children(conn, graph, child, child_where, counts, (*_path, table))
        if n:
            counts[child] = counts.get(child, 0) + n
    return conn.execute(sa.delete(t).where(where)).rowcount


def enforce_retention_rule(
    *,
    system: ExternalSystem,
    rule: SystemRetentionRule,
    now: dt.datetime,
    dry_run: bool = False,
    held: Iterable[tuple[str, str]] = (),
    held_people: Identities | None = None,
    batch_size: int = BATCH_SIZE,
) -> RetentionOutcome:
    """Apply one rule to rows older than its period, in keyset batches; a dry run only counts.

    ``held`` (system key, table) pairs skip the table; rows of ``held_people`` are left alone and counted.
    """
    graph = SystemGraph(system)
    table = rule.dataset.table
    outcome = RetentionOutcome(rule=rule.name, table=table, dry_run=dry_run)
    if (system.key, table) in set(held):
        outcome.held = True
        return outcome
    t, pk = graph.tables[table], graph.primary_key(table)
    with classified(system):
        if rule.date_field not in t.c:
            raise SystemUnavailable(system.name, f"unknown column {table}.{rule.date_field}")
        expired = t.c[rule.date_field] < _cutoff(t.c[rule.date_field], now, rule.period_days)
        on_hold = graph.condition(table, held_people) if held_people else None
        with graph.engine.connect() as conn:
            if on_hold is not None:
                outcome.skipped_hold = conn.execute(
                    sa.select(sa.func.count()).select_from(t).where(expired, on_hold)
                ).scalar_one()
                expired = sa.and_(expired, sa.not_(on_hold))
            outcome.matched = conn.execute(sa.select(sa.func.count()).select_from(t).where(expired)).scalar_one()
        if dry_run or rule.action == RetentionAction.KEEP or not outcome.matched:
            return outcome
        by_column = {n: rule.action for n in rule.fields if n in t.c}
        if not pk:
            with graph.engine.begin() as conn:
                if rule.action == RetentionAction.DELETE:
                    outcome.changed = _delete_with_children(conn, graph, table, expired, outcome.cascaded)
                else:
                    outcome.changed = conn.execute(
                        sa.update(t).where(expired).values(dict.fromkeys(by_column))
                    ).rowcount
            return outcome
        last = None
        while True:
            with graph.engine.begin() as conn:
                columns = [*pk, *[t.c[n] for n in by_column if t.c[n] not in pk]]
                rows = conn.execute(
                    _keyset(sa.select(*columns).where(expired), pk, last).order_by(*pk).limit(batch_size)
                ).all()
                if not rows:
                    return outcome
                keys = [_pk_values(r, pk) for r in rows]
                if rule.action == RetentionAction.DELETE:
                    _delete_with_children(conn, graph, table, _pk_match(pk, keys), outcome.cascaded)
                else:
                    _update_rows(conn, t, pk, rows, by_column)
                outcome.changed += len(rows)
                last = keys[-1]
            if len(rows) < batch_size:
                return outcome
