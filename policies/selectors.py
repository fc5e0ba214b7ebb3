"""Reads: versions in force, history, and which material changes an account holder still has to accept."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import QuerySet

from policies import promises
from policies.models import (
    ChangeNotice,
    DocumentKind,
    NoticeDelivery,
    PolicyAcceptance,
    PolicyDocument,
    PolicyVersion,
    VersionStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser, AnonymousUser

MATERIAL_CACHE_KEY = "policies:material-requirements:v1"
PUBLISHED = (VersionStatus.SCHEDULED, VersionStatus.IN_FORCE, VersionStatus.SUPERSEDED)


def get_version_in_force(*, kind: str) -> PolicyVersion | None:
    """The version of a document that applies now, or None before the first one is published."""
    return (
        PolicyVersion.objects.select_related("document")
        .filter(document__kind=kind, status=VersionStatus.IN_FORCE)
        .first()
    )


def get_upcoming_version(*, kind: str) -> PolicyVersion | None:
    """The next scheduled version of a document, announced before it takes effect."""
    return (
        PolicyVersion.objects.select_related("document")
        .filter(document__kind=kind, status=VersionStatus.SCHEDULED)
        .order_by("effective_at", "number")
        .first()
    )


def get_published_version(*, kind: str, number: int) -> PolicyVersion | None:
    """One published version (drafts are never public)."""
    return (
        PolicyVersion.objects.select_related("document")
        .filter(document__kind=kind, number=number, status__in=PUBLISHED)
        .first()
    )


def list_published_versions(*, document: PolicyDocument) -> QuerySet[PolicyVersion]:
    """Scheduled, in-force and superseded versions of a document, newest first."""
    return document.versions.filter(status__in=PUBLISHED).order_by("-number")


def list_documents() -> list[PolicyDocument]:
    """Every document, in the order privacy, cookies, terms."""
    order = {k: i for i, k in enumerate(DocumentKind.values)}
    return sorted(PolicyDocument.objects.all(), key=lambda d: order.get(d.kind, 99))


def get_previous_published(*, version: PolicyVersion) -> PolicyVersion | None:
    """The published version just before this one, to diff against."""
    return (
        PolicyVersion.objects.filter(document=version.document, number__lt=version.number, status__in=PUBLISHED)
        .order_by("-number")
        .first()
    )


def get_compared_version(*, version: PolicyVersion) -> PolicyVersion | None:
    """What a version's changes are shown against: for a draft the version in force (else the last published),
    for a published version the one published just before it."""
    previous = get_previous_published(version=version)
    if version.status == VersionStatus.DRAFT:
        return get_version_in_force(kind=version.document.kind) or previous
    return previous


def list_version_history(*, document: PolicyDocument) -> list[tuple[PolicyVersion, PolicyVersion | None]]:
    """Each published version of a document, newest first, with the one published before it (None for the first)."""
    versions = list(list_published_versions(document=document))
    return [(v, versions[i + 1] if i + 1 < len(versions) else None) for i, v in enumerate(versions)]


@dataclass(frozen=True)
class MaterialRequirement:
    """For one document: the newest material version in effect, and the version to accept now."""

    document_id: int
    material_number: int
    effective_at: datetime
    current_version_id: int


def material_requirements() -> list[MaterialRequirement]:
    """Per document, the newest material change that has taken effect (cached; reset by every transition)."""
    cached = cache.get(MATERIAL_CACHE_KEY)
    if cached is not None:
        return cached
    result = []
    for current in PolicyVersion.objects.filter(status=VersionStatus.IN_FORCE).order_by("document_id"):
        material = (
            PolicyVersion.objects.filter(
                document_id=current.document_id,
                is_material=True,
                status__in=(VersionStatus.IN_FORCE, VersionStatus.SUPERSEDED),
                number__lte=current.number,
            )
            .order_by("-number")
            .first()
        )
        if material is not None:
            result.append(
                MaterialRequirement(
                    document_id=current.document_id,
                    material_number=material.number,
                    effective_at=material.effective_at or material.published_at,
                    current_version_id=current.pk,
                )
            )
    cache.set(MATERIAL_CACHE_KEY, result, 600)
    return result


def requirements_stamp() -> str:
    """A short fingerprint of the material requirements, kept in the session once a user has met them."""
    return ",".join(f"{r.document_id}:{r.material_number}" for r in material_requirements())


def list_pending_acceptances(*, user: AbstractUser | AnonymousUser) -> list[PolicyVersion]:
    """Versions in force this user must accept before continuing.

    A user who joined before a material change took effect must accept it (or any later version of
    that document); someone who joined afterwards agreed to it when signing up.
    """
    if not user.is_authenticated:
        return []
    due = [r for r in material_requirements() if user.date_joined < r.effective_at]
    if not due:
        return []
    accepted = set(
        PolicyAcceptance.objects.filter(user=user, version__document_id__in=[r.document_id for r in due]).values_list(
            "version__document_id", "version__number"
        )
    )
    pending_ids = [
        r.current_version_id
        for r in due
        if not any(doc == r.document_id and number >= r.material_number for doc, number in accepted)
    ]
    if not pending_ids:
        return []
    return list(PolicyVersion.objects.select_related("document").filter(pk__in=pending_ids).order_by("document__kind"))


def list_notice_recipients(*, version: PolicyVersion) -> QuerySet:
    """Active account holders who joined before the version takes effect: they must be told."""
    effective = version.effective_at or version.published_at
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    if effective is not None:
        users = users.filter(date_joined__lt=effective)
    return users.order_by("pk")


def list_notice_waiting(*, version: PolicyVersion) -> QuerySet:
    """Account holders who must be told of this version and have not been (no delivery of its notice yet)."""
    recipients = list_notice_recipients(version=version)
    notice = ChangeNotice.objects.filter(version=version).first()
    if notice is None:
        return recipients
    return recipients.exclude(pk__in=NoticeDelivery.objects.filter(notice=notice).values("user_id"))


def get_notice(*, version: PolicyVersion) -> ChangeNotice | None:
    """The change notice of a version, if one was ever queued."""
    return ChangeNotice.objects.filter(version=version).first()


def notice_progress(*, notice: ChangeNotice) -> dict:
    """A notice's progress in the shape the one progress component reads (state, percent, rows done and total)."""
    done = notice.sent + notice.failed
    total = max(notice.total, done)
    if notice.status == ChangeNotice.Status.DONE:
        state = "ready"
    else:
        state = "running" if notice.status == ChangeNotice.Status.SENDING else "pending"
    percent = 100 if state == "ready" else (round(100 * done / total) if total else 0)
    return {"state": state, "percent": min(percent, 100), "rows_done": done, "rows_total": total}


def mail_server_answer(error: str) -> str:
    """The mail server's own words from a kept delivery error ("550 5.1.1 User unknown"), without Python's wrapping."""
    match = re.search(r"\((\d{3}), b?['\"](.*?)['\"]\)", error or "")
    return f"{match.group(1)} {match.group(2)}" if match else (error or "")


def notice_report(*, notice: ChangeNotice, failures_shown: int = 50) -> dict:
    """One readable report of a change notice: how many were told, how many could not be and why, how many wait."""
    failed = NoticeDelivery.objects.filter(notice=notice, status=NoticeDelivery.Status.FAILED).select_related("user")
    return {
        "notice": notice,
        "progress": notice_progress(notice=notice),
        "told": notice.sent,
        "failed": notice.failed,
        "waiting": list_notice_waiting(version=notice.version).count() if notice.status != "done" else 0,
        "failures": [
            {"email": d.user.email, "answer": mail_server_answer(d.error)}
            for d in failed.order_by("user__email")[:failures_shown]
        ],
        "more_failures": max(0, notice.failed - failures_shown),
    }


def list_broken_promises() -> list[tuple[PolicyVersion, list[promises.Mismatch]]]:
    """Versions in force or scheduled whose text states a retention period other than the one enforced."""
    periods = promises.enforced_periods()
    if not periods:
        return []
    live = PolicyVersion.objects.filter(status__in=[VersionStatus.IN_FORCE, VersionStatus.SCHEDULED])
    found = []
    for version in live.select_related("document").order_by("document__kind", "number"):
        mismatches = promises.find_mismatches(version.body, periods=periods)
        if mismatches:
            found.append((version, mismatches))
    return found
