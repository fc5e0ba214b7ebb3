"""Seeding retention policies from the registry's rules, without overwriting staff edits."""

import logging

from django.apps import apps
from django.conf import settings
from django.db import transaction

from retention import registry_bridge
from retention.models import PeriodUnit, PolicySource, RetentionAction, RetentionPolicy

logger = logging.getLogger(__name__)


def builtin_defaults() -> list[dict]:
    """The product's default policies: the demo datasets' periods, the request and consent records, accounts.

    Where the registry declares a rule of the same name, these periods and actions win (they are the
    promises the portal makes by default); staff can still change any of them in admin.
    """
    closed = ["completed", "denied", "withdrawn", "expired"]
    return [
        {
            "name": "comment-ip",
            "dataset": "demo.BlogComment",
            "description": "IP addresses of blog comments are cleared 30 days after the comment.",
            "period": 30,
            "period_unit": PeriodUnit.DAYS,
            "date_field": "created_at",
            "action": RetentionAction.NULL,
            "fields": ["ip_address"],
            "legal_basis": "Needed only to deal with abuse of a recent comment (legitimate interest), then cleared.",
        },
        {
            "name": "traffic-logs",
            "dataset": "demo.TrafficLog",
            "description": "Traffic logs are deleted 90 days after the visit, once the statistics are made.",
            "period": 90,
            "period_unit": PeriodUnit.DAYS,
            "date_field": "created_at",
            "action": RetentionAction.DELETE,
            "legal_basis": "Used for statistics, then removed (storage limitation).",
        },
        {
            "name": "support-closed",
            "dataset": "demo.SupportConversation",
            "description": "Support conversations (and their messages) are deleted 2 years after they were closed.",
            "period": 24,
            "period_unit": PeriodUnit.MONTHS,
            "date_field": "closed_at",
            "filters": {"status": "closed"},
            "action": RetentionAction.DELETE,
            "legal_basis": "Kept 2 years after closing to answer follow-up questions, then no longer needed.",
        },
        {
            "name": "support-messages-closed",
            "dataset": "demo.SupportMessage",
            "description": "Messages of support conversations are deleted 2 years after the conversation closed.",
            "period": 24,
            "period_unit": PeriodUnit.MONTHS,
            "date_field": "conversation__closed_at",
            "filters": {"conversation__status": "closed"},
            "action": RetentionAction.DELETE,
            "legal_basis": "Kept 2 years after closing to answer follow-up questions, then no longer needed.",
        },
        {
            "name": "invoices-tax",
            "dataset": "demo.Invoice",
            "description": "Invoices are kept 7 years after they were issued, then deleted.",
            "period": 84,
            "period_unit": PeriodUnit.MONTHS,
            "date_field": "issued_at",
            "action": RetentionAction.DELETE,
            "legal_basis": "Legal obligation: accounting and tax law require invoices to be kept 7 years.",
        },
        {
            "name": "inactive-accounts",
            "dataset": settings.AUTH_USER_MODEL,
            "description": "Accounts nobody has logged in to are warned, then deleted unless the user logs in.",
            "period": settings.INACTIVE_ACCOUNT_WARNING_MONTHS,
            "period_unit": PeriodUnit.MONTHS,
            "date_field": "last_login",
            "action": RetentionAction.ACCOUNT_FLOW,
            "legal_basis": (
                f"Storage limitation: an unused account is no longer needed. Warned after "
                f"{settings.INACTIVE_ACCOUNT_WARNING_MONTHS} months without a login, deleted "
                f"{settings.INACTIVE_ACCOUNT_GRACE_DAYS} days later unless the user logs in."
            ),
        },
        {
            "name": "unverified-requests",
            "dataset": "requests_app.DataRequest",
            "description": "Requests whose sender never proved who they are are deleted 30 days after they were sent.",
            "period": 30,
            "period_unit": PeriodUnit.DAYS,
            "date_field": "created_at",
            "filters": {"status__in": ["awaiting_verification", "expired"], "verified_at__isnull": True},
            "action": RetentionAction.DELETE,
            "legal_basis": "Nothing to answer and no identity proven: kept only long enough to let the sender verify.",
        },
        {
            "name": "closed-requests",
            "dataset": "requests_app.DataRequest",
            "description": "Records of answered, refused, withdrawn or expired requests are deleted 24 months after closing.",
            "period": 24,
            "period_unit": PeriodUnit.MONTHS,
            "date_field": "closed_at",
            "filters": {"status__in": closed, "closed_at__isnull": False},
            "action": RetentionAction.DELETE,
            "legal_basis": "Kept 24 months to show how requests were handled (CCPA record-keeping), then deleted.",
        },
        {
            "name": "consent-log",
            "dataset": "consent.ConsentRecord",
            "description": f"Proof of consent choices is deleted {settings.CONSENT_LOG_RETENTION_YEARS} years after the choice.",
            "period": settings.CONSENT_LOG_RETENTION_YEARS * 12,
            "period_unit": PeriodUnit.MONTHS,
            "date_field": "created_at",
            "action": RetentionAction.DELETE,
            "legal_basis": (
                f"Kept {settings.CONSENT_LOG_RETENTION_YEARS} years to prove consent was given (GDPR Art. 7(1)), "
                "then deleted."
            ),
        },
    ]


def _usable(spec: dict) -> bool:
    """The dataset exists and the date field resolves (apps not installed yet are skipped)."""
    from retention.enforcement import resolve_field

    try:
        model = apps.get_model(spec["dataset"])
        resolve_field(model, spec["date_field"])
        for lookup in spec.get("filters") or {}:
            resolve_field(model, lookup.split("__")[0])
    except (LookupError, ValueError):
        return False
    return True


def _rule_to_spec(rule) -> dict:
    months = getattr(rule, "period_months", None)
    return {
        "name": rule.name,
        "dataset": rule.dataset,
        "description": getattr(rule, "description", "") or "",
        "period": months if months else rule.period_days,
        "period_unit": PeriodUnit.MONTHS if months else PeriodUnit.DAYS,
        "date_field": rule.date_field,
        "filters": dict(getattr(rule, "filters", None) or {}),
        "action": rule.action,
        "fields": list(getattr(rule, "fields", ()) or ()),
        "legal_basis": getattr(rule, "legal_basis", "") or "",
    }


@transaction.atomic
def sync_policies() -> dict:
    """Create missing policies from the registry's rules and the built-ins; refresh seeded ones staff never edited."""
    created = updated = 0
    specs: dict[str, tuple[dict, str]] = {}
    for rule in registry_bridge.retention_rules():
        specs[rule.name] = (_rule_to_spec(rule), PolicySource.REGISTRY)
    for spec in builtin_defaults():
        # The product's default replaces the registry's rule of the same name (see builtin_defaults).
        specs[spec["name"]] = ({"filters": {}, "fields": [], **spec}, PolicySource.BUILTIN)
    for spec, source in specs.values():
        if not _usable(spec):
            continue
        existing = RetentionPolicy.objects.filter(name=spec["name"]).first()
        if existing is None:
            RetentionPolicy.objects.create(source=source, **spec)
            created += 1
        elif existing.source != PolicySource.STAFF and not existing.customised:
            changed = [k for k, v in spec.items() if getattr(existing, k) != v]
            if changed or existing.source != source:
                for k in changed:
                    setattr(existing, k, spec[k])
                existing.source = source
                existing.save()
                updated += 1
    return {"created": created, "updated": updated}
