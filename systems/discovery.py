"""Discovery: read a connected database's schema (never its rows) and propose a declaration from it.

Columns whose names or types suggest personal data are flagged with a category, foreign keys become
references and identity columns are suggested. The proposal keeps what is already declared for columns that
still exist, so a re-run shows only the difference: new and dropped tables and columns.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

import sqlalchemy as sa

from registry.checks import looks_secret
from registry.strategies import Strategy
from systems.engine import classified, engine_for
from systems.models import ExternalSystem, IdentityKind

UNREVIEWED = "not yet reviewed"

# (pattern on the column name, category): first match wins, so specific names come before general ones.
NAME_HINTS: list[tuple[re.Pattern, str]] = [
    (re.compile(p, re.IGNORECASE), c)
    for p, c in [
        (r"e_?mail", "user.contact.email"),
        (r"phone|mobile|(^|_)tel(_|$)|fax", "user.contact.phone_number"),
        (r"(first|given|fore)_?name", "user.name.first"),
        (r"(last|family|sur)_?name", "user.name.last"),
        (r"^(full_?)?name$|(customer|display|contact|person|user|author|billing)_?name", "user.name"),
        (r"(^|_)ip(_|$)|ip_?addr", "user.device.ip_address"),
        (r"street|address_line", "user.contact.address.street"),
        (r"(^|_)city(_|$)|town", "user.contact.address.city"),
        (r"postal|post_?code|zip", "user.contact.address.postal_code"),
        (r"country", "user.contact.address.country"),
        (r"addr", "user.contact.address"),
        (r"birth|(^|_)dob(_|$)", "user.demographic.date_of_birth"),
        (r"gender|(^|_)sex(_|$)", "user.demographic.gender"),
        (r"iban|bank_?account|account_?number", "user.financial.bank_account"),
        (r"card_?(number|no)|(^|_)pan(_|$)", "user.financial.credit_card"),
        (r"(^|_)(lat|lng|lon|latitude|longitude)(_|$)|geo", "user.location.precise"),
        (r"user_?agent|device", "user.device"),
        (r"passport|national_?id|ssn|tax_?id|vat", "user.government_id"),
        (r"note|comment|message|body|remark|bio|about", "user.content.private"),
    ]
]
USER_ID_NAMES = re.compile(r"^(portal_)?(user|account)_?id$", re.IGNORECASE)


def suggest_category(name: str, column_type: sa.types.TypeEngine) -> str | None:
    """The data category a column's name or type suggests, or None when it looks like no personal data."""
    if looks_secret(name):
        return "user.authorization.credentials"
    for pattern, category in NAME_HINTS:
        if pattern.search(name):
            return category
    type_name = type(column_type).__name__.upper()
    if type_name in ("INET", "CIDR"):
        return "user.device.ip_address"
    if isinstance(column_type, sa.Text) or (
        isinstance(column_type, sa.String) and not getattr(column_type, "length", 0)
    ):
        return "user.content.private"  # free text can hold anything a person wrote
    return None


@dataclass
class ColumnInfo:
    name: str
    type: str
    nullable: bool
    length: int | None = None


@dataclass
class TableInfo:
    name: str
    columns: list[ColumnInfo]
    primary_key: list[str]
    foreign_keys: dict[str, str]  # column -> "table.column"
    types: dict[str, sa.types.TypeEngine] = field(default_factory=dict, repr=False)


def read_schema(*, system: ExternalSystem) -> dict[str, TableInfo]:
    """Tables, columns, types, primary and foreign keys of the system's database (no row is read)."""
    engine = engine_for(system)
    schema: dict[str, TableInfo] = {}
    with classified(system), engine.connect() as conn:
        inspector = sa.inspect(conn)
        for name in sorted(inspector.get_table_names()):
            columns = inspector.get_columns(name)
            fks = {}
            for fk in inspector.get_foreign_keys(name):
                if len(fk["constrained_columns"]) == 1 and fk["referred_columns"]:
                    fks[fk["constrained_columns"][0]] = f"{fk['referred_table']}.{fk['referred_columns'][0]}"
            schema[name] = TableInfo(
                name=name,
                columns=[
                    ColumnInfo(
                        name=c["name"],
                        type=str(c["type"]),
                        nullable=bool(c.get("nullable", True)),
                        length=getattr(c["type"], "length", None),
                    )
                    for c in columns
                ],
                primary_key=list(inspector.get_pk_constraint(name).get("constrained_columns") or []),
                foreign_keys=fks,
                types={c["name"]: c["type"] for c in columns},
            )
    return schema


def _declared_columns(dataset) -> set[str]:
    names = {f.name for f in dataset.fields.all()} | set(dataset.identity.values()) | set(dataset.references)
    names |= set(dataset.other_columns)
    return (
        names
        | {r.date_field for r in dataset.retention_rules.all()}
        | {n for r in dataset.retention_rules.all() for n in r.fields}
    )


@dataclass
class SchemaDiff:
    """What the database has that the declaration does not, and the reverse."""

    new_tables: list[str] = field(default_factory=list)
    dropped_tables: list[str] = field(default_factory=list)
    new_columns: dict[str, list[str]] = field(default_factory=dict)
    dropped_columns: dict[str, list[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.new_tables or self.dropped_tables or self.new_columns or self.dropped_columns)

    def lines(self) -> list[str]:
        """The difference in words, one line each."""
        out = [f"new table {t}" for t in self.new_tables]
        out += [f"new column {t}.{c}" for t, cols in self.new_columns.items() for c in cols]
        out += [f"dropped table {t} (declared, no longer in the database)" for t in self.dropped_tables]
        out += [
            f"dropped column {t}.{c} (declared, no longer in the database)"
            for t, cols in self.dropped_columns.items()
            for c in cols
        ]
        return out


def schema_diff(*, system: ExternalSystem, schema: dict[str, TableInfo]) -> SchemaDiff:
    """Compare the declaration of ``system`` with its live ``schema``."""
    declared = {d.table: d for d in system.datasets.all()}
    diff = SchemaDiff(
        new_tables=sorted(set(schema) - set(declared)), dropped_tables=sorted(set(declared) - set(schema))
    )
    for table, dataset in declared.items():
        if table not in schema:
            continue
        live = {c.name for c in schema[table].columns}
        known = _declared_columns(dataset)
        new = sorted(live - known - set(schema[table].primary_key))
        gone = sorted(known - live)
        if new:
            diff.new_columns[table] = new
        if gone:
            diff.dropped_columns[table] = gone
    return diff


def declared_but_missing(*, system: ExternalSystem) -> list[tuple[str, str | None]]:
    """Declared tables (column None) and columns the database no longer has."""
    diff = schema_diff(system=system, schema=read_schema(system=system))
    return [(t, None) for t in diff.dropped_tables] + [(t, c) for t, cols in diff.dropped_columns.items() for c in cols]


def _default_strategy(category: str, info: ColumnInfo, column_type) -> str:
    if category == "user.contact.email":
        return Strategy.PSEUDONYMISE.value
    if isinstance(column_type, sa.String) and (info.length is None or info.length >= 8):
        return Strategy.MASK.value
    return Strategy.NULL.value if info.nullable else Strategy.KEEP.value


def _reaches_identity(table: str, datasets: dict[str, dict]) -> bool:
    seen, todo = set(), [table]
    while todo:
        t = todo.pop()
        if t in seen or t not in datasets:
            continue
        seen.add(t)
        if datasets[t].get("identity"):
            return True
        todo.extend(target.split(".", 1)[0] for target in datasets[t].get("references", {}).values())
    return False


@dataclass
class Proposal:
    """A proposed declaration of a system's datasets (systems-file form), the diff, and what was left out."""

    datasets: list[dict]
    diff: SchemaDiff
    unlinked: list[str]  # tables no identity column or reference ties to a person

    @property
    def digest(self) -> str:
        """Fingerprint of the proposal, so that accepting it refuses a schema that changed since review."""
        return hashlib.sha256(json.dumps(self.datasets, sort_keys=True).encode()).hexdigest()[:16]


def propose_declaration(*, system: ExternalSystem) -> Proposal:
    """Read the schema and propose datasets: declared ones updated to the schema, new tables suggested."""
    from systems.services import dataset_document

    schema = read_schema(system=system)
    declared = {d.table: d for d in system.datasets.all()}
    proposed: dict[str, dict] = {}
    for table, info in schema.items():
        if table in declared:
            doc = dataset_document(declared[table])
            live = {c.name for c in info.columns}
            doc["fields"] = [f for f in doc["fields"] if f["name"] in live]
            doc["identity"] = {k: c for k, c in doc.get("identity", {}).items() if c in live}
            doc["references"] = {c: t for c, t in doc.get("references", {}).items() if c in live}
            for column, target in info.foreign_keys.items():
                doc["references"].setdefault(column, target)
            kept = [r for r in doc.get("retention", []) if r["date_field"] in live]
            doc.pop("retention", None)
            if kept:
                doc["retention"] = kept
            doc["other_columns"] = [c for c in doc.pop("other_columns", []) if c in live]
        else:
            doc = {
                "table": table,
                "title": table.replace("_", " ").capitalize(),
                "identity": {},
                "references": dict(info.foreign_keys),
                "fields": [],
                "other_columns": [],
            }
        declared_names = {f["name"] for f in doc["fields"]} | set(doc["other_columns"])
        declared_names |= {r["date_field"] for r in doc.get("retention", [])}
        for col in info.columns:
            if col.name in declared_names or col.name in info.primary_key or col.name in doc["references"]:
                continue
            category = suggest_category(col.name, info.types[col.name])
            if category == "user.contact.email" and IdentityKind.EMAIL not in doc["identity"]:
                doc["identity"][IdentityKind.EMAIL.value] = col.name
            if USER_ID_NAMES.match(col.name) and IdentityKind.USER_ID not in doc["identity"]:
                doc["identity"][IdentityKind.USER_ID.value] = col.name
                category = category or "user.unique_id"
            if category is None:
                doc["other_columns"].append(col.name)
                continue
            strategy = _default_strategy(category, col, info.types[col.name])
            field_doc = {
                "name": col.name,
                "category": category,
                "purpose": UNREVIEWED,
                "legal_basis": "legitimate_interests",
                "erase": strategy,
            }
            if strategy == Strategy.KEEP:
                field_doc["keep_reason"] = UNREVIEWED
            if category == "user.authorization.credentials":
                field_doc["secret"] = True
            doc["fields"].append(field_doc)
        for key in ("identity", "references", "other_columns"):
            if not doc[key]:
                doc.pop(key)
        proposed[table] = doc
    linked = {t: d for t, d in proposed.items() if _reaches_identity(t, proposed)}
    # a reference to a table left out cannot be followed: drop it
    for doc in linked.values():
        if "references" in doc:
            doc["references"] = {c: t for c, t in doc["references"].items() if t.split(".", 1)[0] in linked}
            if not doc["references"]:
                doc.pop("references")
    return Proposal(
        datasets=list(linked.values()),
        diff=schema_diff(system=system, schema=schema),
        unlinked=sorted(set(proposed) - set(linked)),
    )
