"""The trail in a privacy team's words: verbs, kinds of record and changed values, never slugs or field paths."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.verbs import verb_label


def type_label(content_type: ContentType | None) -> str:
    """A kind of record as staff call it, e.g. "Data-subject request"."""
    if content_type is None:
        return ""
    model = content_type.model_class()
    if model is None:
        return capfirst(content_type.model)
    return capfirst(str(model._meta.verbose_name))


def event_verb(event: AuditEvent) -> str:
    return verb_label(event.verb, event.content_type.app_label if event.content_type_id else "")


def _field(event: AuditEvent, name: str):
    """The model field an audited value belongs to; else one the model names for it in ``audit_value_fields``
    (a policy's trail holds its runs' counts and statuses, which are fields of the run's items)."""
    model = event.content_type.model_class() if event.content_type_id else None
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        borrowed = getattr(model, "audit_value_fields", None)
        return (borrowed() if callable(borrowed) else borrowed or {}).get(name)


def _field_label(event: AuditEvent, name: str) -> str:
    field = _field(event, name)
    if field is not None:
        return capfirst(str(field.verbose_name))
    return capfirst(name.replace("_", " "))


def _value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value(v)}" for k, v in value.items())
    return str(value)


def _choice(event: AuditEvent, name: str, value: Any) -> Any:
    # A stored enum value reads as its label ("in_progress" -> "In progress").
    field = _field(event, name) if isinstance(value, str) else None
    if field is None:
        return value
    choices = dict(field.flatchoices)
    return str(choices.get(value, value))


def change_lines(event: AuditEvent) -> list[tuple[str, str, str]]:
    """(what, before, after) rows: one per changed field, or a single row for a plain value."""
    old, new = event.old, event.new
    if isinstance(old, dict) or isinstance(new, dict):
        old, new = old if isinstance(old, dict) else {}, new if isinstance(new, dict) else {}
        names = list(dict.fromkeys([*old, *new]))
        return [
            (_field_label(event, n), _value(_choice(event, n, old.get(n))), _value(_choice(event, n, new.get(n))))
            for n in names
        ]
    if old is None and new is None:
        return []
    # A plain value is most often a status (a request's, a version's): shown by its label when it is one.
    return [("", _value(_choice(event, "status", old)), _value(_choice(event, "status", new)))]


def sentence(event: AuditEvent) -> str:
    """One line a person reads: who did what to which record."""
    what = event_verb(event)
    who = event.actor_label or event.get_actor_kind_display()
    record = event.object_label or type_label(event.content_type)
    return _("%(who)s: %(what)s (%(record)s)") % {"who": who, "what": what, "record": record}
