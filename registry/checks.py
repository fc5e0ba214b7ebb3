"""System checks: a registry that cannot keep its promises stops start-up."""

import re

from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from registry.sites import LegalBasis, PrivacyRegistry
from registry.strategies import MASK_TEXT, PSEUDONYM_LENGTH, Strategy
from registry.taxonomy import DATA_CATEGORIES

TEXT_FIELDS = (models.CharField, models.TextField)

# Column names of credentials: an export holding one would let whoever reads the ZIP log in as the subject
# (a session key is the session cookie) or attack the account offline (a password hash).
SECRET_NAME = re.compile(r"password|session_key|token|secret|key_hash|nonce|api_key|(?:^|_)otp(?:_|$)", re.IGNORECASE)


def looks_secret(name: str) -> bool:
    """Whether a column's name says it holds a credential."""
    return bool(SECRET_NAME.search(name))


def _resolve_path(model, path: str):
    """Follow a ``a__b__c`` path; returns the last field or raises FieldDoesNotExist."""
    field = None
    for part in path.split("__"):
        field = model._meta.get_field(part)
        if field.is_relation and field.related_model is not None:
            model = field.related_model
    return field


def unique_field_names(model) -> set[str]:
    """Names of fields whose values must be unique, alone or together with others: ``unique=True``,
    ``unique_together`` and ``UniqueConstraint`` (Django's recommended form, conditional ones included)."""
    names = {f.name for f in model._meta.concrete_fields if f.unique}
    for group in model._meta.unique_together:
        names.update(group)
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            names.update(constraint.fields)
    return names


def check_registry(registry: PrivacyRegistry) -> list[checks.CheckMessage]:
    """Validate every declaration in ``registry``; returns check errors."""
    errors: list[checks.CheckMessage] = []
    strategies = set(Strategy.values)
    rule_names = {r.name for r in registry.retention_rules()}
    for ds in registry.datasets():
        try:
            model = ds.model
        except (LookupError, ValueError):
            errors.append(checks.Error(f"{ds.label} is registered but is not an installed model.", id="registry.E006"))
            continue
        if not (ds.user_path or ds.email_field or ds.lookup):
            errors.append(
                checks.Error(
                    f"{ds.label} has no subject lookup.",
                    hint="Give user_path, email_field or lookup.",
                    id="registry.E007",
                )
            )
        for path in filter(None, [ds.user_path if ds.user_path not in ("pk", "self", "") else None, ds.email_field]):
            try:
                _resolve_path(model, path)
            except FieldDoesNotExist:
                errors.append(checks.Error(f"{ds.label}: subject path '{path}' does not exist.", id="registry.E007"))
        registered = {pf.name for pf in ds.fields}
        unique = unique_field_names(model)
        for f in model._meta.concrete_fields:
            if looks_secret(f.name) and f.name not in ds.secret_names:
                errors.append(
                    checks.Error(
                        f"{ds.label}.{f.name} is named like a credential but is not marked secret.",
                        hint="Mark it secret: PersonalField(..., secret=True), or secret_fields=(...) on register.",
                        id="registry.E015",
                    )
                )
        for name in ds.secret_fields:
            try:
                model._meta.get_field(name)
            except FieldDoesNotExist:
                errors.append(checks.Error(f"{ds.label}: secret field '{name}' does not exist.", id="registry.E001"))
        for name in ds.rectify_fields:
            if name not in registered:
                errors.append(
                    checks.Error(f"{ds.label}: rectify field '{name}' is not a registered field.", id="registry.E001")
                )
        for pf in ds.fields:
            where = f"{ds.label}.{pf.name}"
            try:
                f = model._meta.get_field(pf.name)
            except FieldDoesNotExist:
                errors.append(checks.Error(f"{where} is registered but the field does not exist.", id="registry.E001"))
                continue
            if pf.strategy not in strategies:
                errors.append(checks.Error(f"{where}: unknown erasure strategy '{pf.strategy}'.", id="registry.E004"))
            if pf.strategy == Strategy.NULL and not f.null:
                errors.append(
                    checks.Error(
                        f"{where}: strategy 'null' on a field that cannot be null.",
                        hint="Use mask, pseudonymise or delete, or make the field nullable.",
                        id="registry.E002",
                    )
                )
            if pf.strategy == Strategy.MASK:
                if pf.name in unique:
                    errors.append(
                        checks.Error(
                            f"{where}: a fixed mask on a unique field would collide on the second erasure.",
                            hint="Use pseudonymise or delete.",
                            id="registry.E003",
                        )
                    )
                elif not isinstance(f, TEXT_FIELDS):
                    errors.append(checks.Error(f"{where}: mask needs a text field.", id="registry.E008"))
                elif getattr(f, "max_length", None) is not None and f.max_length < len(MASK_TEXT):
                    errors.append(
                        checks.Error(
                            f"{where}: max_length {f.max_length} is too short for the mask {MASK_TEXT!r}.",
                            hint="Use null or delete.",
                            id="registry.E008",
                        )
                    )
            if pf.strategy == Strategy.PSEUDONYMISE:
                max_length = getattr(f, "max_length", None)
                if isinstance(f, models.UUIDField):
                    pass
                elif not isinstance(f, TEXT_FIELDS) or isinstance(f, models.GenericIPAddressField):
                    errors.append(checks.Error(f"{where}: pseudonymise needs a text field.", id="registry.E008"))
                elif max_length is not None and max_length < PSEUDONYM_LENGTH:
                    errors.append(
                        checks.Error(
                            f"{where}: max_length {max_length} is too short for a pseudonym ({PSEUDONYM_LENGTH}).",
                            id="registry.E008",
                        )
                    )
            if pf.strategy == Strategy.KEEP and not pf.keep_reason:
                errors.append(checks.Error(f"{where}: 'keep' needs a legal reason (keep_reason).", id="registry.E005"))
            if ds.deletes_rows and pf.strategy == Strategy.KEEP:
                # Delete is the default strategy: one field left without one deletes the whole row, kept value too.
                errors.append(
                    checks.Error(
                        f"{where}: 'keep' in a dataset whose rows are deleted on erasure (another field's strategy "
                        "is 'delete'), so the kept value would go with its row.",
                        hint="Give the dataset's other fields null, mask or pseudonymise.",
                        id="registry.E014",
                    )
                )
            elif ds.deletes_rows and pf.strategy in (Strategy.NULL, Strategy.MASK, Strategy.PSEUDONYMISE):
                errors.append(
                    checks.Warning(
                        f"{where}: strategy '{pf.strategy}' has no effect: another field's strategy is 'delete', "
                        "so the whole row is deleted on erasure.",
                        hint="Give every field of the dataset 'delete', or none of them.",
                        id="registry.W001",
                    )
                )
            if pf.category not in DATA_CATEGORIES:
                errors.append(
                    checks.Error(
                        f"{where}: unknown data category '{pf.category}'.",
                        hint="Use a category from registry.taxonomy.DATA_CATEGORIES.",
                        id="registry.E009",
                    )
                )
            if pf.legal_basis not in LegalBasis.LABELS:
                errors.append(checks.Error(f"{where}: unknown legal basis '{pf.legal_basis}'.", id="registry.E010"))
            if pf.retention and pf.retention not in rule_names:
                errors.append(checks.Error(f"{where}: unknown retention rule '{pf.retention}'.", id="registry.E011"))
        for rule in ds.retention:
            if rule.action not in rule.ACTIONS:
                errors.append(
                    checks.Error(f"Retention rule '{rule.name}': unknown action '{rule.action}'.", id="registry.E013")
                )
            elif (rule.action in rule.FIELD_ACTIONS) != bool(rule.fields):
                errors.append(
                    checks.Error(
                        f"Retention rule '{rule.name}': fields are needed for null, mask and pseudonymise, "
                        "and only for them.",
                        id="registry.E013",
                    )
                )
            if rule.dataset != ds.label:
                errors.append(
                    checks.Error(
                        f"Retention rule '{rule.name}' names {rule.dataset} but sits on {ds.label}.", id="registry.E012"
                    )
                )
            try:
                _resolve_path(model, rule.date_field)
            except FieldDoesNotExist:
                errors.append(
                    checks.Error(
                        f"Retention rule '{rule.name}': date field '{rule.date_field}' does not exist.",
                        id="registry.E012",
                    )
                )
            for name in rule.fields:
                if ds.field(name) is None:
                    errors.append(
                        checks.Error(
                            f"Retention rule '{rule.name}': field '{name}' is not a registered field of {ds.label}.",
                            id="registry.E012",
                        )
                    )
        for name in ds.file_fields:
            try:
                model._meta.get_field(name)
            except FieldDoesNotExist:
                errors.append(checks.Error(f"{ds.label}: file field '{name}' does not exist.", id="registry.E001"))
    return errors


def registry_check(app_configs=None, **kwargs):
    from registry.sites import site

    return check_registry(site)
