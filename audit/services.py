"""Writes to the audit trail. Call ``record_event`` inside the transaction of the service that makes the change."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet
from django.utils.functional import Promise

from audit.models import ActorKind, AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

WITHHELD = "[withheld]"
# Keys whose values never enter the trail: credentials and what unlocks them. A bare "key" is an identifier
# (a category's or a website's public key); "api_key", "session_key", "secret_key" and the like are secrets.
SECRET_WORDS = (
    "password",
    "token",
    "secret",
    "hash",
    "session",
    "nonce",
    "signature",
    "verifier",
    "salt",
    "otp",
    "credential",
)


@dataclass(frozen=True)
class Actor:
    """Who made a change: a person with an account, a named system job, or a requester known by address."""

    kind: str
    label: str
    account: Any = None

    @classmethod
    def user(cls, user: AbstractBaseUser) -> Actor:
        """A signed-in person: staff, or an account holder acting for themselves."""
        kind = ActorKind.STAFF if getattr(user, "is_staff", False) else ActorKind.REQUESTER
        return cls(kind=kind, label=user.get_username()[:200], account=user)

    @classmethod
    def system(cls, job: str = "system") -> Actor:
        """The portal itself: a scheduled job, a worker, a receiver (named so staff can tell them apart)."""
        return cls(kind=ActorKind.SYSTEM, label=(job or "system")[:200])

    @classmethod
    def requester(cls, email: str = "", *, user: AbstractBaseUser | None = None) -> Actor:
        """A requester without a session of their own (an e-mailed link), labelled by their masked address."""
        return cls(kind=ActorKind.REQUESTER, label=mask_email(email) or "requester", account=user)

    @classmethod
    def of(cls, value: Actor | AbstractBaseUser | str | None) -> Actor:
        """An Actor from what callers hold: an Actor, a user, a job's name, or None for the portal itself."""
        if isinstance(value, Actor):
            return value
        if value is None:
            return cls.system()
        if isinstance(value, str):
            return cls(kind=ActorKind.REQUESTER, label=value) if value == "requester" else cls.system(value)
        return cls.user(value)


def mask_email(email: str) -> str:
    """``w***@example.com``: enough to tell requesters apart in the trail, not enough to write to them."""
    local, sep, domain = (email or "").strip().partition("@")
    if not sep:
        return ""
    return f"{local[:1]}***@{domain}"[:200]


def is_secret_key(name: str) -> bool:
    """Whether a value stored under ``name`` is a credential (token, hash, key, password, session key)."""
    lowered = name.lower()
    return lowered.endswith(("_key", "_keys")) or any(word in lowered for word in SECRET_WORDS)


def redact(value: Any) -> Any:
    """``value`` as JSON-ready data, with every secret-looking key's value withheld, at any depth."""
    if isinstance(value, Mapping):
        return {str(k): WITHHELD if is_secret_key(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((redact(v) for v in value), key=str)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def snapshot(obj: models.Model, fields: list[str] | tuple[str, ...]) -> dict:
    """The values of ``fields`` on ``obj`` (foreign keys as their names), for an event's old or new side."""
    out = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            out[name] = sorted(str(o) for o in getattr(obj, name).all()) if obj.pk else []
        elif field.is_relation:
            out[name] = str(getattr(obj, name)) if getattr(obj, field.attname) is not None else None
        else:
            out[name] = getattr(obj, field.attname)
    return redact(out)


def audited_fields(model: type[models.Model], *, exclude: tuple[str, ...] = ()) -> list[str]:
    """The fields staff edit on ``model`` (editable columns and many-to-many), for snapshots of its rows."""
    names = []
    for field in model._meta.get_fields():
        if field.auto_created or not getattr(field, "editable", False) or field.name in exclude:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            continue
        if field.concrete or field.many_to_many:
            names.append(field.name)
    return names


def changes(old: Mapping, new: Mapping) -> tuple[dict, dict]:
    """Only the keys whose values differ, as (old, new)."""
    keys = [k for k in new if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new.get(k) for k in keys}


def record_event(
    *,
    actor: Actor | AbstractBaseUser | str | None,
    obj: models.Model,
    verb: str,
    old: Any = None,
    new: Any = None,
    note: str = "",
    request_reference: str = "",
) -> AuditEvent:
    """Append one event to the trail, in the caller's transaction (secrets in ``old``/``new`` are withheld)."""
    who = Actor.of(actor)
    account = who.account if getattr(who.account, "pk", None) is not None else None
    return AuditEvent.objects.create(
        actor_kind=who.kind,
        actor=account,
        actor_label=who.label[:200],
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk) if obj.pk is not None else "",
        object_label=str(obj)[:200],
        verb=verb[:40],
        note=note or "",
        old=redact(old),
        new=redact(new),
        request_reference=(request_reference or "")[:32],
    )


def mask_events(*, events: QuerySet[AuditEvent], **values: Any) -> int:
    """Overwrite fields of existing events (erasure only: a subject's data leaves the trail, the events stay)."""
    allowed = {"actor_label", "old", "new", "note", "object_label", "actor_kind"}
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"cannot mask {sorted(unknown)}")
    return events.update(**values)
