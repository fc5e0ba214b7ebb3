"""Reads for retention's pages and reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from retention import registry_bridge
from retention.models import RetentionAction, RetentionPolicy, RetentionRun

if TYPE_CHECKING:
    from django.db.models import QuerySet

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


def latest_runs(*, limit: int = 20) -> QuerySet[RetentionRun]:
    """The most recent enforcement runs with their per-policy items."""
    return RetentionRun.objects.prefetch_related("items").order_by("-started_at")[:limit]


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


def enforced_policy_texts() -> dict[str, str]:
    """Descriptions of the enabled policies by name, as staff worded them (the registry shows these)."""
    return {
        name: description
        for name, description in RetentionPolicy.objects.filter(enabled=True).values_list("name", "description")
        if description
    }
