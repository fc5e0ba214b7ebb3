"""Reads for data-subject requests: querysets with their joins live here."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from requests_app.models import (
    OPEN_STATUSES,
    DataRequest,
    FilePurpose,
    RequestFile,
    RequestStatus,
    VerificationToken,
)

if TYPE_CHECKING:
    from datetime import datetime

    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser


def hash_verifier(value: str) -> str:
    """The stored form of a verification token's secret part."""
    return hashlib.sha256(value.encode()).hexdigest()


def verifier_matches(*, verifier: str, verifier_hash: str) -> bool:
    """Whether a token's secret part hashes to the stored hash, compared in constant time (no timing oracle)."""
    return bool(verifier) and constant_time_compare(hash_verifier(verifier), verifier_hash)


def verification_link_state(*, token: str) -> tuple[str, DataRequest | None]:
    """Look at an e-mailed verification token without using it: (state, request).

    States: "pending" (the Confirm button may verify), "verified" (already done), "invalid",
    "expired", "used", "locked" or "closed". Opening the link only reads: a GET or a HEAD, as
    mail scanners send, changes nothing; only the confirmation (``services.verify_with_token``) writes.
    """
    selector, _sep, verifier = token.partition(".")
    row = VerificationToken.objects.select_related("data_request").filter(selector=selector).first()
    if row is None or not verifier_matches(verifier=verifier, verifier_hash=row.verifier_hash):
        return "invalid", None
    data_request = row.data_request
    if data_request.verified_at is not None:
        return "verified", data_request
    if row.attempts >= settings.DSR_VERIFICATION_MAX_ATTEMPTS:
        return "locked", data_request
    if row.used_at is not None:
        return "used", data_request
    if row.expires_at <= timezone.now():
        return "expired", data_request
    if not data_request.is_open:
        return "closed", data_request
    return "pending", data_request


def requests_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[DataRequest]:
    """The signed-in user's own requests, newest first."""
    if not user.is_authenticated:
        return DataRequest.objects.none()
    return DataRequest.objects.filter(user=user).order_by("-received_at")


def get_request_for_owner(*, user: AbstractBaseUser | AnonymousUser, reference: str) -> DataRequest | None:
    """The request with ``reference`` if ``user`` owns it, else None (never someone else's)."""
    return requests_for_user(user=user).filter(reference=reference).first()


def get_request_for_status_token(*, token: str) -> DataRequest | None:
    """The request a secret status link points at, or None if the link is forged or revoked."""
    from requests_app.services import STATUS_SALT

    try:
        value = signing.Signer(salt=STATUS_SALT).unsign(token)
    except signing.BadSignature:
        return None
    pk, _sep, nonce = value.partition(".")
    if not pk.isdigit() or not nonce:
        return None
    return DataRequest.objects.filter(pk=int(pk), status_nonce=nonce).first()


def requester_access(
    *, data_request: DataRequest, user: AbstractBaseUser | AnonymousUser | None = None, status_token: str = ""
) -> str:
    """How the person viewing may see the request: "session" (its signed-in owner), "status-link"
    (holder of a valid status link to it) or "" (neither)."""
    if user is not None and user.is_authenticated and data_request.user_id is not None:
        if data_request.user_id == user.pk:
            return "session"
    if status_token:
        found = get_request_for_status_token(token=status_token)
        if found is not None and found.pk == data_request.pk:
            return "status-link"
    return ""


def find_verified_duplicate(*, email: str, kind: str, exclude_pk: int | None = None) -> DataRequest | None:
    """The oldest verified open request of ``kind`` from ``email``: where a verified repeat submission goes."""
    qs = DataRequest.objects.filter(
        requester_email__iexact=email.strip(), kind=kind, status__in=OPEN_STATUSES, verified_at__isnull=False
    )
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.order_by("received_at", "pk").first()


def open_requests_like(*, email: str, kind: str, exclude_pk: int | None = None) -> QuerySet[DataRequest]:
    """Open requests of ``kind`` from ``email``, verified or not (for staff only: they tell whether it exists)."""
    qs = DataRequest.objects.filter(requester_email__iexact=email.strip(), kind=kind, status__in=OPEN_STATUSES)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.order_by("received_at", "pk")


def result_files(*, data_request: DataRequest) -> QuerySet[RequestFile]:
    return data_request.files.filter(purpose=FilePurpose.RESULT)


# The queue's "due soon" windows, in days: its filter and its due-date badge both use them.
DUE_SOON_DAYS = (5, 10)


def filter_by_due(*, queryset: QuerySet[DataRequest], due: str, now: datetime | None = None) -> QuerySet[DataRequest]:
    """Open requests that are overdue (``due="overdue"``) or due within one of ``DUE_SOON_DAYS`` ("5", "10")."""
    now = now or timezone.now()
    open_qs = queryset.filter(status__in=OPEN_STATUSES)
    if due == "overdue":
        return open_qs.filter(due_at__lt=now)
    days = int(due) if due.isdigit() else None
    if days not in DUE_SOON_DAYS:
        return queryset.none()
    return open_qs.filter(due_at__gte=now, due_at__lte=now + timedelta(days=days))


def filter_awaiting_release_approval(*, queryset: QuerySet[DataRequest]) -> QuerySet[DataRequest]:
    """The requests of ``queryset`` that wait for a staff member's approval (``DataRequest.awaits_release_approval``)."""
    return queryset.filter(release_approval_required=True, release_approved_at__isnull=True, status__in=OPEN_STATUSES)


def list_assignable_staff() -> QuerySet:
    """The staff members a request may be given to: active staff accounts."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(is_staff=True, is_active=True)


def list_overdue_requests(*, now: datetime | None = None) -> QuerySet[DataRequest]:
    """Open requests whose due date has passed."""
    return DataRequest.objects.filter(status__in=OPEN_STATUSES, due_at__lt=now or timezone.now())


REQUEST_LOG_HEADER = [
    "reference",
    "date_of_request",
    "nature_of_request",
    "jurisdiction",
    "manner_made",
    "status",
    "date_verified",
    "due_date",
    "deadline_extended",
    "date_of_response",
    "nature_of_response",
    "basis_for_denial",
]


def _nature_of_response(data_request: DataRequest) -> str:
    if data_request.status == RequestStatus.COMPLETED:
        return "complied"
    if data_request.status == RequestStatus.DENIED:
        return "denied"
    return data_request.status


def request_log_rows(*, queryset: QuerySet[DataRequest]) -> Iterator[list[str]]:
    """The request log with the fields 11 CCR §7101 asks a business to keep for 24 months, header first."""
    from requests_app.services import org_tz

    tz = org_tz()
    yield list(REQUEST_LOG_HEADER)
    # Repeat submissions folded into another request are part of it, not requests of their own.
    for dr in queryset.filter(merged_into__isnull=True).order_by("received_at").iterator():
        closed = dr.status not in OPEN_STATUSES
        yield [
            dr.reference,
            dr.received_at.astimezone(tz).date().isoformat(),
            dr.kind,
            dr.jurisdiction,
            dr.channel,
            dr.status,
            dr.verified_at.astimezone(tz).date().isoformat() if dr.verified_at else "",
            dr.due_at.astimezone(tz).date().isoformat(),
            "yes" if dr.extended_at else "no",
            dr.closed_at.astimezone(tz).date().isoformat() if dr.closed_at else "",
            _nature_of_response(dr) if closed else "",
            dr.get_denial_reason_display() if dr.denial_reason else "",
        ]


# --- the queue by urgency: the dashboard's figures and the queue's filters count the same rows ---------------

# The queue's SLA colours: overdue, due within this many days (amber), fine.
SLA_SOON_DAYS = 3
# "Due this week": not overdue, due within this many days.
WEEK_DAYS = 7
URGENCIES = ("overdue", "soon", "week", "later")


def _urgency_bounds(now: datetime) -> tuple[datetime, datetime, datetime]:
    """(overdue before, due soon up to, due this week up to): the ends of the days in the organisation's zone."""
    from requests_app import deadlines
    from requests_app.services import org_tz

    tz = org_tz()
    today = deadlines.local_date(now, tz)
    soon = deadlines.end_of_day(today + timedelta(days=SLA_SOON_DAYS), tz)
    week = deadlines.end_of_day(today + timedelta(days=WEEK_DAYS), tz)
    return now, soon, week


def urgency_q(urgency: str, *, now: datetime | None = None) -> Q | None:
    """The condition for open requests that are "overdue", due "soon" (SLA), this "week" or "later"; None if unknown."""
    overdue_before, soon, week = _urgency_bounds(now or timezone.now())
    return {
        "overdue": Q(due_at__lt=overdue_before),
        "soon": Q(due_at__gte=overdue_before, due_at__lte=soon),
        "week": Q(due_at__gte=overdue_before, due_at__lte=week),
        "later": Q(due_at__gt=week),
    }.get(urgency)


def filter_by_urgency(
    *, queryset: QuerySet[DataRequest], urgency: str, now: datetime | None = None
) -> QuerySet[DataRequest]:
    """The open requests of ``queryset`` of one of ``URGENCIES``."""
    q = urgency_q(urgency, now=now)
    if q is None:
        return queryset.none()
    return queryset.filter(q, status__in=OPEN_STATUSES)


def filter_assigned(*, queryset: QuerySet[DataRequest], user: AbstractBaseUser | None) -> QuerySet[DataRequest]:
    """The requests of ``queryset`` assigned to ``user`` (None: assigned to nobody)."""
    if user is None:
        return queryset.filter(assignee__isnull=True)
    return queryset.filter(assignee=user)


def urgency_counts(*, user: AbstractBaseUser, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Open requests per urgency, ``{"all": {...}, "mine": {...}}``, with "open" the total of each."""
    now = now or timezone.now()
    aggregates = {"all_open": Count("pk"), "mine_open": Count("pk", filter=Q(assignee=user))}
    for urgency in ("overdue", "week", "later"):
        q = urgency_q(urgency, now=now)
        aggregates[f"all_{urgency}"] = Count("pk", filter=q)
        aggregates[f"mine_{urgency}"] = Count("pk", filter=q & Q(assignee=user))
    row = DataRequest.objects.filter(status__in=OPEN_STATUSES).aggregate(**aggregates)
    return {who: {k: row[f"{who}_{k}"] for k in ("open", "overdue", "week", "later")} for who in ("all", "mine")}


def count_by_status(*, queryset: QuerySet[DataRequest] | None = None) -> dict[str, int]:
    """How many requests there are per status (statuses with none are left out)."""
    queryset = DataRequest.objects.all() if queryset is None else queryset
    return dict(queryset.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n"))


def workflow_done_message(*, action: str, data_request: DataRequest) -> str:
    """What staff read once a workflow action on a request is done: what it changed, in a sentence."""
    from django.utils.formats import date_format
    from django.utils.translation import gettext

    ref = data_request.reference
    due = date_format(timezone.localtime(data_request.due_at), "DATE_FORMAT") if data_request.due_at else "—"
    messages = {
        "verify": gettext("%(ref)s is verified: work on it can start."),
        "approve": gettext("%(ref)s is approved and is being carried out."),
        "start": gettext("You are working on %(ref)s now; it is assigned to you."),
        "request_info": gettext("The requester of %(ref)s was asked for more information."),
        "message": gettext("Your message to the requester of %(ref)s was sent."),
        "extend": gettext("The deadline of %(ref)s is now %(due)s."),
        "deny": gettext("%(ref)s is denied."),
        "complete": gettext("%(ref)s is completed."),
    }
    return messages.get(action, gettext("%(ref)s is updated.")) % {"ref": ref, "due": due}
