"""Reads for retention's pages and reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _

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


def enforced_periods() -> list[dict]:
    """Each enabled policy's period as enforced, with its subject in words (policy texts are checked against these)."""
    return [
        {
            "name": policy.name,
            "subject": dataset_title(policy.dataset),
            "period": policy.period,
            "unit": policy.period_unit,
            "display": policy.period_display,
        }
        for policy in RetentionPolicy.objects.filter(enabled=True)
    ]


# --- what staff read: datasets, field paths, actions, durations and times in words ------------------------


def dataset_title(label: str) -> str:
    """A dataset as staff know it: its registered title, else its model's name; never an ``app.Model`` label."""
    from django.apps import apps

    ds = registry_bridge.dataset(label)
    if ds is not None:
        return registry_bridge.text(ds.title)
    external = {known.lower(): title for known, title in registry_bridge.external_datasets()}
    if label.lower() in external:  # a connected system's table
        return external[label.lower()]
    try:
        return capfirst(apps.get_model(label)._meta.verbose_name_plural)
    except (LookupError, ValueError):
        return label.split(".")[-1] if "." in label else label


def dataset_choices() -> list[tuple[str, str]]:
    """The registered datasets, by title, for a policy's form (the label stays the stored value)."""
    return sorted(((ds.label, registry_bridge.text(ds.title)) for ds in registry_bridge.datasets()), key=lambda c: c[1])


def field_path_words(label: str, path: str) -> str:
    """A ``__`` field path in words through the models' verbose names, e.g. "Conversation: closed at"."""
    from django.apps import apps

    words, model = [], None
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        pass
    for part in path.split("__"):
        field = None
        if model is not None:
            try:
                field = model._meta.get_field(part)
            except FieldDoesNotExist:
                pass
        words.append(str(getattr(field, "verbose_name", "") or part.replace("_", " ")))
        model = field.related_model if field is not None and field.is_relation else None
    return capfirst(": ".join(words))


def action_label(value: str) -> str:
    """A retention action as its label ("Clear fields (set to empty)"), not its stored value."""
    try:
        return str(RetentionAction(value).label)
    except ValueError:
        return value.replace("_", " ")


def duration_text(seconds: float | None) -> str:
    """A run's duration rounded for a person: "< 0.1 s", "0.2 s", "12 s", "3 min 5 s"."""
    seconds = seconds or 0
    if seconds < 0.05:
        return _("< 0.1 s")
    if seconds < 10:
        return _("%(s)s s") % {"s": number_format(round(seconds, 1), 1)}
    if seconds < 60:
        return _("%(s)d s") % {"s": round(seconds)}
    minutes, rest = divmod(round(seconds), 60)
    return _("%(m)d min %(s)d s") % {"m": minutes, "s": rest}


def local_time_text(moment) -> str:
    """A moment in the organisation's time zone, in the one format the admin uses for dates and times."""
    if moment is None:
        return "—"
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


TRIGGERS = {
    "command": _("The enforce_retention command"),
    "schedule": _("Its schedule"),
    "admin": _("Staff, from the policy's page"),
}


def trigger_label(trigger: str) -> str:
    """Who or what started a run, in words."""
    return str(TRIGGERS.get(trigger, trigger))


def run_report_rows(run: RetentionRun) -> list[dict]:
    """One row per policy of a run, as staff read it: dataset title, action and status in words, local times."""
    from retention.models import ItemStatus

    rows = []
    for item in run.items.order_by("policy_name"):
        try:
            status = str(ItemStatus(item.status).label)
        except ValueError:
            status = item.status
        rows.append(
            {
                "policy": item.policy_name,
                "dataset": dataset_title(item.dataset),
                "action": action_label(item.action),
                "status": status,
                "failed": item.status == ItemStatus.FAILED,
                "cutoff": local_time_text(item.cutoff) if item.cutoff else "—",
                "matched": item.matched,
                "deleted": item.deleted,
                "modified": item.modified,
                "held": item.skipped_hold,
                "duration": duration_text(item.duration_seconds),
                "errors": item.errors,
            }
        )
    return rows


def run_summary(run: RetentionRun) -> str:
    """One sentence for the message after a run by hand: what matched, what went, what was held."""
    items = list(run.items.all())
    counts = {
        "matched": sum(i.matched for i in items),
        "gone": sum(i.deleted + i.modified for i in items),
        "held": sum(i.skipped_hold for i in items),
    }
    if run.dry_run:
        return (
            _("Dry run: %(matched)s rows are past their period, %(held)s of them held; nothing was changed.") % counts
        )
    return _("Run finished: %(matched)s rows past their period, %(gone)s deleted or changed, %(held)s held.") % counts
