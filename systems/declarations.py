"""The systems file: parsing and validating the YAML that declares connected systems and their datasets.

Validation is strict (no coercion: ``period_days: "10"`` is an error, not 10) and complete: every error is
reported with its line, so that one run of ``load_systems`` shows all that is wrong with a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from registry.sites import LegalBasis
from registry.strategies import Strategy
from registry.taxonomy import DATA_CATEGORIES, LEGACY_CATEGORIES
from systems.models import Action, IdentityKind, Kind, RetentionAction

Name = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=128)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=300)]
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
KEY = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


def _identifier(value: str, what: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(f"{what} '{value}' is not a plain column or table name")
    return value


class OwnerSpec(_Strict):
    name: Text
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class ConnectionSpec(_Strict):
    url_env: Annotated[str, StringConstraints(pattern=ENV_NAME.pattern, max_length=128)]


class FieldSpec(_Strict):
    name: Name
    category: str
    purpose: Text
    legal_basis: str
    erase: Literal[tuple(Strategy.values)]  # type: ignore[valid-type]
    recipients: list[Text] = Field(default_factory=list)
    keep_reason: str = ""
    secret: bool = False
    rectifiable: bool = False
    description: str = ""

    # Field validators run each on their own, so that one wrong value does not hide another.
    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _identifier(value, "column")

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        if value not in DATA_CATEGORIES:
            hint = f" (now '{LEGACY_CATEGORIES[value]}')" if value in LEGACY_CATEGORIES else ""
            raise ValueError(f"unknown data category '{value}'{hint}")
        return value

    @field_validator("legal_basis")
    @classmethod
    def _legal_basis(cls, value: str) -> str:
        if value not in LegalBasis.LABELS:
            raise ValueError(f"unknown legal basis '{value}', one of: {', '.join(LegalBasis.LABELS)}")
        return value

    @model_validator(mode="after")
    def _check(self):
        if self.erase == Strategy.KEEP and not self.keep_reason.strip():
            raise ValueError(f"column '{self.name}' is kept on erasure: give keep_reason")
        return self


class RetentionSpec(_Strict):
    name: Annotated[str, StringConstraints(pattern=KEY.pattern, max_length=100)]
    period_days: Annotated[int, Field(gt=0)]
    date_field: Name
    action: Literal[tuple(RetentionAction.values)] = RetentionAction.DELETE.value  # type: ignore[valid-type]
    fields: list[Name] = Field(default_factory=list)
    legal_basis: str = ""
    description: str = ""

    @field_validator("date_field")
    @classmethod
    def _date_field(cls, value: str) -> str:
        return _identifier(value, "date column")

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: list[str]) -> list[str]:
        return [_identifier(v, "column") for v in value]

    @model_validator(mode="after")
    def _check(self):
        needs_fields = self.action in (RetentionAction.NULL, RetentionAction.MASK, RetentionAction.PSEUDONYMISE)
        if needs_fields and not self.fields:
            raise ValueError(f"rule '{self.name}' changes columns: list them under fields")
        if not needs_fields and self.fields:
            raise ValueError(f"rule '{self.name}' does not change columns: leave out fields")
        return self


class DatasetSpec(_Strict):
    table: Name
    title: Text
    description: str = ""
    identity: dict[Literal[tuple(IdentityKind.values)], Name] = Field(default_factory=dict)  # type: ignore[valid-type]
    references: dict[Name, Name] = Field(default_factory=dict)
    fields: list[FieldSpec] = Field(default_factory=list)
    retention: list[RetentionSpec] = Field(default_factory=list)
    other_columns: list[Name] = Field(default_factory=list)

    @field_validator("table")
    @classmethod
    def _table(cls, value: str) -> str:
        return _identifier(value, "table")

    @model_validator(mode="after")
    def _check(self):
        for column in self.identity.values():
            _identifier(column, "identity column")
        for column, target in self.references.items():
            _identifier(column, "column")
            table, dot, target_column = target.partition(".")
            if not dot or not IDENTIFIER.match(table) or not IDENTIFIER.match(target_column):
                raise ValueError(f"reference '{column}: {target}' must point at table.column")
        if not self.identity and not self.references:
            raise ValueError(
                f"table '{self.table}' has neither identity columns nor references: no row reaches a person"
            )
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError(f"table '{self.table}' declares a column twice")
        return self


class SystemSpec(_Strict):
    key: Annotated[str, StringConstraints(pattern=KEY.pattern, max_length=64)]
    name: Text
    owner: OwnerSpec
    kind: Literal[tuple(Kind.values)] = Kind.SQL.value  # type: ignore[valid-type]
    connection: ConnectionSpec | None = None
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=200)] | None = None
    secret_env: Annotated[str, StringConstraints(pattern=ENV_NAME.pattern, max_length=128)] | None = None
    timeout: Annotated[float, Field(gt=0, le=600)] | None = None
    actions: list[Literal[tuple(Action.values)]] = Field(default_factory=list)  # type: ignore[valid-type]
    datasets: list[DatasetSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self):
        if self.kind == Kind.SQL:
            if self.connection is None:
                raise ValueError(f"system '{self.key}' is a database: give connection: {{url_env: VARIABLE}}")
            if self.url or self.secret_env or self.timeout is not None:
                raise ValueError(f"system '{self.key}' is a database: url, secret_env and timeout are for kind: http")
        elif self.kind == Kind.HTTP:
            if not self.url:
                raise ValueError(f"system '{self.key}' is a web service: give its url")
            if self.connection is not None:
                raise ValueError(f"system '{self.key}' is a web service: connection is for kind: sql")
        elif self.connection is not None or self.url or self.datasets:
            raise ValueError(f"system '{self.key}' is done by a person: it has only an owner and actions")
        tables = [d.table for d in self.datasets]
        duplicates = sorted({t for t in tables if tables.count(t) > 1})
        if duplicates:
            raise ValueError(f"system '{self.key}' declares table {', '.join(duplicates)} twice")
        rules = [r.name for d in self.datasets for r in d.retention]
        if len(rules) != len(set(rules)):
            raise ValueError(f"system '{self.key}' names two retention rules alike")
        if self.kind == Kind.SQL:
            _check_references(self)
        return self


def _check_references(system: SystemSpec) -> None:
    """Each reference points at a declared table, and every table reaches an identity column through them."""
    by_table = {d.table: d for d in system.datasets}
    for dataset in system.datasets:
        for column, target in dataset.references.items():
            if target.split(".", 1)[0] not in by_table:
                raise ValueError(f"table '{dataset.table}': reference '{column}' points at undeclared table '{target}'")
    for dataset in system.datasets:
        seen, todo = set(), [dataset.table]
        while todo:
            table = todo.pop()
            if table in seen:
                continue
            seen.add(table)
            if by_table[table].identity:
                break
            todo.extend(t.split(".", 1)[0] for t in by_table[table].references.values())
        else:
            raise ValueError(f"table '{dataset.table}': its references never reach a table with identity columns")


class SystemsFileSpec(_Strict):
    systems: list[SystemSpec]

    @model_validator(mode="after")
    def _check(self):
        keys = [s.key for s in self.systems]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"system {', '.join(duplicates)} is declared twice")
        return self


@dataclass(frozen=True)
class FileError:
    line: int  # 1-based; 0 when the file has no position for it
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class InvalidSystemsFile(Exception):
    """The file cannot be loaded; ``errors`` holds every problem with its line."""

    def __init__(self, errors: list[FileError]):
        self.errors = sorted(errors, key=lambda e: e.line)
        super().__init__("\n".join(str(e) for e in self.errors))


def _duplicate_keys(node, errors: list[FileError]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                errors.append(FileError(key_node.start_mark.line + 1, f"'{key}' is given twice"))
            seen.add(key)
            _duplicate_keys(value_node, errors)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _duplicate_keys(item, errors)


def _node_at(root, loc: tuple) -> yaml.Node:
    """The deepest node on the path ``loc`` (a pydantic error location) that exists in the document."""
    node = root
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                return node
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


TYPE_WORDS = {
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "string_type": "text",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
PATTERN_WORDS = {
    "email": "not an e-mail address",
    "key": "use lower-case letters, digits, _ and -",
    "name": "use lower-case letters, digits, _ and -",
    "url_env": "use capital letters, digits and _, e.g. LEGACY_SHOP_DATABASE_URL",
    "secret_env": "use capital letters, digits and _",
    "url": "must start with https:// or http://",
}


def _describe(error: dict) -> str:
    loc = [p for p in error["loc"] if not isinstance(p, int)]
    if loc and loc[0] == "systems" and len(loc) > 1:
        loc = loc[1:]
    where = ".".join(str(p) for p in loc) or "file"
    kind, given = error["type"], error.get("input")
    if kind == "missing":
        return f"{where}: required"
    if kind == "extra_forbidden":
        return f"{where}: unknown key"
    if kind == "value_error":
        return str(error["ctx"]["error"]) if "ctx" in error else error["msg"]
    if kind in TYPE_WORDS:
        return f"{where}: must be {TYPE_WORDS[kind]}, got {given!r}"
    if kind == "literal_error":
        return f"{where}: {given!r} is not one of {error['ctx']['expected']}"
    if kind == "string_pattern_mismatch":
        return f"{where}: {PATTERN_WORDS.get(str(loc[-1]) if loc else '', 'not allowed here')}, got {given!r}"
    if kind in ("string_too_short", "too_short"):
        return f"{where}: must not be empty"
    if kind == "string_too_long":
        return f"{where}: too long (at most {error['ctx']['max_length']} characters)"
    if kind in ("greater_than", "less_than_equal"):
        return f"{where}: {error['msg'].lower()}, got {given!r}"
    return f"{where}: {error['msg'].lower()}"


def parse_systems_file(text: str) -> SystemsFileSpec:
    """Parse and validate a systems file; raises InvalidSystemsFile listing every error with its line."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise InvalidSystemsFile([FileError(1, "the file is empty: it must start with systems:")])
        errors: list[FileError] = []
        _duplicate_keys(root, errors)
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise InvalidSystemsFile([FileError(mark.line + 1 if mark else 0, f"not valid YAML: {exc.problem}")])
    finally:
        loader.dispose()
    try:
        spec = SystemsFileSpec.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function"))))
            node = _node_at(root, loc)
            errors.append(FileError(node.start_mark.line + 1, _describe({**error, "loc": loc})))
        raise InvalidSystemsFile(_unique(errors))
    if errors:
        raise InvalidSystemsFile(errors)
    return spec


def _unique(errors: list[FileError]) -> list[FileError]:
    seen, out = set(), []
    for e in errors:
        if (e.line, e.message) not in seen:
            seen.add((e.line, e.message))
            out.append(e)
    return out
