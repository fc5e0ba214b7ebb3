"""Reads for data-subject requests: querysets with their joins live here."""

from django.core import signing
from django.db.models import QuerySet
from django.utils import timezone

from requests_app.models import OPEN_STATUSES, DataRequest, FilePurpose, RequestFile


def requests_for_user(*, user) -> QuerySet[DataRequest]:
    """The signed-in user's own requests, newest first."""
    if not user.is_authenticated:
        return DataRequest.objects.none()
    return DataRequest.objects.filter(user=user).order_by("-received_at")


def get_request_for_owner(*, user, reference: str) -> DataRequest | None:
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


def list_overdue_requests(*, now=None) -> QuerySet[DataRequest]:
    """Open requests whose due date has passed."""
    return DataRequest.objects.filter(status__in=OPEN_STATUSES, due_at__lt=now or timezone.now())
