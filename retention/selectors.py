"""Reads for retention's pages and reports."""

from django.db.models import F, Q

from retention import registry_bridge
from retention.models import (
    AccountDeletion,
    DeletionStatus,
    InactiveAccountNotice,
    NoticeStatus,
    RetentionAction,
    RetentionPolicy,
    RetentionRun,
)

# Records that outlive an account deletion because the law asks for them (the request itself, pseudonymised).
RECORD_DATASETS = ["requests_app.DataRequest", "consent.ConsentRecord"]


def kept_after_deletion() -> list[RetentionPolicy]:
    """Policies under which some data outlives an account deletion (shown on the deletion page).

    Their description and legal basis come in the reader's language unless staff rewrote them.
    """
    kept = [*RECORD_DATASETS, *registry_bridge.kept_on_erasure_labels()]
    policies = list(
        RetentionPolicy.objects.filter(enabled=True)
        .filter(Q(action=RetentionAction.KEEP) | Q(dataset__in=kept))
        .exclude(action=RetentionAction.NULL)
        .exclude(filters__has_key="verified_at__isnull")
        .order_by("dataset", "name")
    )
    for policy in policies:
        policy.description = registry_bridge.translate_policy_text(policy.name, policy.description)
        policy.legal_basis = registry_bridge.translate_policy_text(policy.name, policy.legal_basis)
    return policies


def latest_runs(*, limit: int = 20):
    """The most recent enforcement runs with their per-policy items."""
    return RetentionRun.objects.prefetch_related("items").order_by("-started_at")[:limit]


def deletion_in_grace_period(*, data_request_id: int, user_ids=(), now) -> AccountDeletion | None:
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


# The inactive-account flow's name when staff have not (yet) seeded or created its policy.
INACTIVE_ACCOUNTS_POLICY = "inactive-accounts"


def inactive_accounts_policy_name() -> str:
    """Name of the policy that erases inactive accounts (the built-in name when none is stored)."""
    name = (
        RetentionPolicy.objects.filter(action=RetentionAction.ACCOUNT_FLOW)
        .order_by("pk")
        .values_list("name", flat=True)
        .first()
    )
    return name or INACTIVE_ACCOUNTS_POLICY


def inactive_account_erasure_notice(*, data_request_id: int, user_id, policy: str, now) -> InactiveAccountNotice | None:
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
