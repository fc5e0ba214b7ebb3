"""Reads of the audit trail, newest last unless said otherwise."""

from __future__ import annotations

import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet

from audit.models import AuditEvent


def list_object_events(*, obj: models.Model) -> QuerySet[AuditEvent]:
    """Every event about ``obj``, oldest first."""
    ct = ContentType.objects.get_for_model(obj)
    return AuditEvent.objects.filter(content_type=ct, object_id=str(obj.pk)).select_related("actor", "content_type")


def list_request_events(*, reference: str) -> QuerySet[AuditEvent]:
    """Every event that belongs to the request with this reference, whichever object it was about, oldest first."""
    return AuditEvent.objects.filter(request_reference=reference).select_related("actor", "content_type")


def list_events(
    *,
    actor_kind: str = "",
    verb: str = "",
    content_type: ContentType | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
    reference: str = "",
) -> QuerySet[AuditEvent]:
    """The whole trail, newest first, narrowed by whichever filters are given."""
    qs = AuditEvent.objects.select_related("actor", "content_type").order_by("-created_at", "-pk")
    if actor_kind:
        qs = qs.filter(actor_kind=actor_kind)
    if verb:
        qs = qs.filter(verb=verb)
    if content_type is not None:
        qs = qs.filter(content_type=content_type)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    if reference:
        qs = qs.filter(request_reference=reference.strip())
    return qs


def audited_content_types() -> QuerySet[ContentType]:
    """The kinds of record the trail holds events about."""
    return ContentType.objects.filter(pk__in=AuditEvent.objects.values("content_type").distinct())
