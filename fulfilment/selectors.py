"""Reads for fulfilment: the requests to fulfil, and the account flows' state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import F, Q

from fulfilment.models import (
    AccountDeletion,
    DataExport,
    DeletionStatus,
    ErasureRun,
    InactiveAccountNotice,
    NoticeStatus,
)
from requests_app.models import OPEN_STATUSES, DataRequest
from retention.models import RetentionAction, RetentionPolicy
from retention.selectors import INACTIVE_ACCOUNTS_POLICY

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from django.db.models import QuerySet

FULFILMENT_KINDS = ("access", "portability", "erasure", "rectification", "restriction", "objection")


def list_requests_to_fulfil(*, include_closed: bool = False) -> QuerySet[DataRequest]:
    """Verified requests the registry fulfils, earliest deadline first, with their exports and erasure run."""
    qs = DataRequest.objects.filter(kind__in=FULFILMENT_KINDS, verified_at__isnull=False)
    if not include_closed:
        qs = qs.filter(status__in=OPEN_STATUSES)
    return qs.select_related("erasure_run").prefetch_related("exports").order_by("due_at", "pk")


def deletion_in_grace_period(
    *, data_request_id: int, user_ids: Iterable[int] = (), now: datetime
) -> AccountDeletion | None:
    """The self-service account deletion still in its grace period for this request or account, if any."""
    match = Q(data_request_id=data_request_id)
    ids = [pk for pk in user_ids if pk]
    if ids:
        match |= Q(user_id__in=ids)
    return (
        AccountDeletion.objects.filter(match, status=DeletionStatus.SCHEDULED, execute_after__gt=now)
        .order_by("execute_after")
        .first()
    )


def inactive_account_erasure_notice(
    *, data_request_id: int, user_id: int | None, policy: str, now: datetime
) -> InactiveAccountNotice | None:
    """The warning whose grace period ended for this request's account, if ``policy`` may erase it now."""
    flows = RetentionPolicy.objects.filter(action=RetentionAction.ACCOUNT_FLOW)
    if flows.exists():
        if not flows.filter(name=policy, enabled=True).exists():
            return None
    elif policy != INACTIVE_ACCOUNTS_POLICY:
        return None
    if not user_id:
        return None
    return (
        InactiveAccountNotice.objects.filter(
            data_request_id=data_request_id,
            user_id=user_id,
            status=NoticeStatus.WARNED,
            delete_after__lte=now,
        )
        .filter(
            # A login since the warning means the account is in use: no policy erases it.
            Q(user__last_login__isnull=True) | Q(user__last_login__lte=F("warned_at"))
        )
        .first()
    )


def erasures_waiting_on_systems() -> QuerySet[ErasureRun]:
    """Approved erasures that have not finished because a connected system failed to answer (they retry)."""
    return ErasureRun.objects.filter(state__in=(ErasureRun.State.APPROVED, ErasureRun.State.RUNNING)).exclude(error="")


def exports_retrying() -> QuerySet[DataExport]:
    """Exports still queued or running after an error (a connected system that did not answer)."""
    return DataExport.objects.filter(state__in=(DataExport.State.PENDING, DataExport.State.RUNNING)).exclude(error="")


def subject_data_categories(*, data_request: DataRequest) -> set[str]:
    """The kinds of data the portal held on the request's subject: for an erasure, those of the datasets its run
    found rows in (they are gone now); otherwise those of the registered datasets that hold the person's rows."""
    from fulfilment.external import STEP_PREFIX
    from registry import site
    from systems.models import SystemField

    run = ErasureRun.objects.filter(data_request=data_request).first()
    categories: set[str] = set()
    if run is not None:
        external_keys = []
        for step in run.steps.all():
            found = sum(n for n in (step.counts or {}).values() if isinstance(n, int)) or step.kept
            if not found:
                continue
            if site.is_registered(step.dataset):
                categories.update(site.get(step.dataset).categories())
            elif step.dataset.startswith(STEP_PREFIX):
                external_keys.append(step.dataset.removeprefix(STEP_PREFIX))
        fields = SystemField.objects.filter(dataset__system__key__in=external_keys)
        categories.update(fields.values_list("category", flat=True))
        return categories
    user_ids = [data_request.user_id] if data_request.user_id else []
    emails = [data_request.requester_email] if data_request.requester_email else []
    for dataset in site.datasets():
        if dataset.queryset_for(user_ids=user_ids, emails=emails).exists():
            categories.update(dataset.categories())
    return categories
