"""Reads for consent: cached banner configuration, consent state, purpose consents."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.templatetags.static import static
from django.utils import timezone

from consent.models import (
    Category,
    ConsentDailySummary,
    ConsentMethod,
    ConsentRecord,
    ConsentSummaryState,
    CookieDeclaration,
    Property,
    Purpose,
    PurposeConsent,
    PurposeVersion,
    RefusedOrigin,
    Vendor,
)
from core.ratelimit import warn_cache_unreachable

if TYPE_CHECKING:
    from datetime import date, datetime
    from uuid import UUID

    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser
    from django.db.models import QuerySet

PORTAL_KEY_CACHE_KEY = "consent:portal-key:v1"
CONFIG_CACHE_PREFIX = "consent:config:v2:"  # v2: each cookie carries its purpose
MISSING = "-"  # cached marker for an unknown property key, so probing keys costs no query either


def config_cache_key(key: str) -> str:
    return f"{CONFIG_CACHE_PREFIX}{key}"


def get_portal_property_key() -> str:
    """The public key of the property whose banner the portal's own pages show ('' if none), cached."""
    if settings.PORTAL_CONSENT_PROPERTY_KEY:
        return settings.PORTAL_CONSENT_PROPERTY_KEY
    key = _cache_get(PORTAL_KEY_CACHE_KEY)
    if key is None:
        key = Property.objects.filter(is_portal=True).order_by("pk").values_list("key", flat=True).first() or ""
        _cache_set(PORTAL_KEY_CACHE_KEY, key)
    return key


def _cache_get(key: str) -> dict | str | None:
    """A cached value, or None when it is missing or the cache is unreachable (then the database answers)."""
    try:
        return cache.get(key)
    except Exception as exc:
        warn_cache_unreachable("banner configuration is read from the database until it is back", exc)
        return None


def _cache_set(key: str, value: dict | str) -> None:
    try:
        cache.set(key, value, settings.CONSENT_BANNER_CACHE_SECONDS)
    except Exception as exc:
        warn_cache_unreachable("banner configuration is read from the database until it is back", exc)


def get_property(*, key: str) -> Property | None:
    """The website with this public key, or None."""
    return Property.objects.filter(key=key).first()


def get_portal_property() -> Property | None:
    key = get_portal_property_key()
    return Property.objects.filter(key=key).first() if key else None


def build_property_config(prop: Property) -> dict:
    """Everything the banner and the API need about a property, as plain JSON-able data."""
    cats = list(prop.categories.all().order_by("order", "key"))
    if not any(c.key == Category.NECESSARY for c in cats):
        cats = list(Category.objects.filter(key=Category.NECESSARY)) + cats
    decls = list(prop.declarations.select_related("category").order_by("name"))
    return {
        "pk": prop.pk,
        "key": prop.key,
        "name": prop.name,
        "revision": prop.revision,
        "origins": prop.origins(),
        "lang": prop.default_language,
        "refusal_days": prop.refusal_lifetime_days,
        "acceptance_days": prop.acceptance_lifetime_days,
        "css": static("consent/banner.css"),
        "categories": [
            {
                "key": c.key,
                "name": c.name,
                "description": c.description,
                "cookies": [
                    [d.name, d.provider, d.duration, 1 if d.is_regex else 0, d.party, d.purpose]
                    for d in decls
                    if d.category_id == c.pk
                ],
            }
            for c in cats
        ],
    }


# A few seconds of per-process memory in front of the shared cache: the API's hot path then costs no
# cache round trip. Admin changes reach every process within LOCAL_TTL seconds.
LOCAL_TTL = 3.0
_local: dict[str, tuple[float, object]] = {}


def get_property_config(key: str, *, fresh: bool = False) -> dict | None:
    """The property's configuration from the shared cache, built from the database on a miss or a cache outage."""
    now = time.monotonic()
    hit = None if fresh else _local.get(key)
    if hit is not None and hit[0] > now:
        config = hit[1]
    else:
        ck = config_cache_key(key)
        config = _cache_get(ck)
        if config is None:
            prop = Property.objects.filter(key=key).first()
            config = build_property_config(prop) if prop else MISSING
            _cache_set(ck, config)
        if len(_local) > 1000:
            _local.clear()
        _local[key] = (now + LOCAL_TTL, config)
    return None if config == MISSING else config


def list_refused_origins(*, prop: Property) -> list[RefusedOrigin]:
    """Website addresses refused for this property and still not allowed, most recent first."""
    allowed = set(prop.origins())
    return [r for r in RefusedOrigin.objects.filter(property=prop).order_by("-last_seen") if r.origin not in allowed]


def forget_local_configs() -> None:
    """Drop this process's short-lived copies (the shared cache is invalidated separately)."""
    _local.clear()


def get_consent_history(*, property_pk: int | None = None, consent_id: UUID) -> list[ConsentRecord]:
    """Every record of a consent id, oldest first."""
    qs = ConsentRecord.objects.filter(consent_id=consent_id).select_related("property")
    if property_pk is not None:
        qs = qs.filter(property_id=property_pk)
    return list(qs.order_by("created_at", "pk"))


# The columns of a consent id's proof export, in order.
PROOF_FIELDS = (
    "created_at",
    "consent_id",
    "property",
    "revision",
    "method",
    "choices",
    "gpc",
    "user",
    "ip",
    "user_agent_family",
    "page_url",
)


def proof_record(record: ConsentRecord) -> dict:
    """One consent record as it appears in the proof export."""
    return {
        "created_at": record.created_at.isoformat(),
        "consent_id": str(record.consent_id),
        "property": record.property.key,
        "revision": record.revision,
        "method": record.method,
        "choices": record.choices,
        "gpc": record.gpc,
        "user": record.user_id,
        "ip": record.ip,
        "user_agent_family": record.user_agent_family,
        "page_url": record.page_url,
    }


def consent_proof_json(*, consent_id: str, records: Iterable[ConsentRecord]) -> str:
    """A consent id's history as the JSON document staff hand over as proof."""
    return json.dumps({"consent_id": consent_id, "records": [proof_record(r) for r in records]}, indent=2)


def consent_proof_rows(*, records: Iterable[ConsentRecord]) -> Iterator[list]:
    """A consent id's history as CSV rows, header first; the choices as sorted JSON in one cell."""
    yield list(PROOF_FIELDS)
    for record in records:
        row = proof_record(record)
        row["choices"] = json.dumps(row["choices"], sort_keys=True)
        yield [row[f] for f in PROOF_FIELDS]


def get_current_consent(*, property_pk: int, consent_id: UUID) -> ConsentRecord | None:
    """The latest record of a consent id on a property."""
    return (
        ConsentRecord.objects.filter(property_id=property_pk, consent_id=consent_id)
        .order_by("-created_at", "-pk")
        .first()
    )


OUTCOMES = tuple(ConsentMethod.values)  # accept_all, reject_all, custom, gpc, withdraw


def summary_as_of() -> datetime | None:
    """When the daily consent figures were last brought up to date (their "as of"), or None if never."""
    return ConsentSummaryState.objects.filter(key="consent").values_list("summarised_at", flat=True).first()


def summary_counts(
    *,
    first_day: date | None = None,
    end_day: date | None = None,
    property_pk: int | None = None,
    method: str | None = None,
    gpc: bool | None = None,
    group_by: tuple[str, ...] = (),
) -> list[dict]:
    """Choices recorded, from the daily figures: days ``first_day`` to before ``end_day``, grouped by ``group_by``."""
    qs = ConsentDailySummary.objects.all()
    if first_day is not None:
        qs = qs.filter(day__gte=first_day)
    if end_day is not None:
        qs = qs.filter(day__lt=end_day)
    if property_pk is not None:
        qs = qs.filter(property_id=property_pk)
    if method is not None:
        qs = qs.filter(method=method)
    if gpc is not None:
        qs = qs.filter(gpc=gpc)
    if not group_by:
        return [qs.aggregate(n=Sum("count"))]
    return list(qs.values(*group_by).annotate(n=Sum("count")).order_by(*group_by))


def summary_total(**filters) -> int:
    """How many choices the daily figures hold for these filters (see ``summary_counts``)."""
    rows = summary_counts(**filters)
    return int(rows[0]["n"] or 0) if rows else 0


def summary_months() -> list[date]:
    """The first day of each month the daily figures hold choices for, newest first."""
    months = ConsentDailySummary.objects.annotate(month=TruncMonth("day")).values_list("month", flat=True)
    return sorted(set(months.distinct().order_by()), reverse=True)


def outcomes_per_day(*, prop: Property, days: int = 30, now: datetime | None = None) -> list[dict]:
    """Counts per day of each way a choice was made (``OUTCOMES``, one per ``ConsentMethod``) over ``days`` days.

    From the daily figures (``services.summarise_consent``), not the log: days in the organisation's time zone.
    """
    now = now or timezone.now()
    start = (timezone.localtime(now) - timedelta(days=days - 1)).date()
    rows = summary_counts(first_day=start, property_pk=prop.pk, group_by=("day", "method"))
    by_day: dict[date, dict[str, int]] = {}
    for r in rows:
        by_day.setdefault(r["day"], {})[r["method"]] = int(r["n"])
    out = []
    for i in range(days):
        day = start + timedelta(days=i)
        r = by_day.get(day, {})
        out.append({"day": day, **{key: r.get(key, 0) for key in OUTCOMES}})
    return out


def list_declarations(*, prop: Property) -> list[tuple[Category, list[CookieDeclaration]]]:
    """The property's declared cookies grouped by category, for the declaration page."""
    decls = CookieDeclaration.objects.filter(property=prop).select_related("category", "vendor")
    cats = list(prop.categories.all().order_by("order", "key"))
    return [(c, [d for d in decls if d.category_id == c.pk]) for c in cats]


def vendors_for_record() -> list[dict]:
    """Every third party with its country and purpose, for the record of processing."""
    return [
        {"name": name, "country": country, "purpose": purpose}
        for name, country, purpose in Vendor.objects.order_by("name").values_list("name", "country", "purpose")
    ]


def list_vendors(*, prop: Property | None = None) -> QuerySet[Vendor]:
    """Third parties, optionally only those of one property."""
    qs = Vendor.objects.all()
    if prop is not None:
        qs = qs.filter(properties=prop)
    return qs.order_by("name").distinct()


TARGETING_CATEGORY = "targeting"


def _categories_overlap(received: Iterable[str], held: set[str]) -> bool:
    # Fideslang keys nest: a third party receiving "user.contact" receives "user.contact.email", and the reverse.
    return any(r == h or h.startswith(r + ".") or r.startswith(h + ".") for r in received for h in held)


def vendors_to_tell(*, event: str, purpose: str = "", categories: Iterable[str] = ()) -> list[Vendor]:
    """The third parties an event concerns: a withdrawn consent those receiving data for that purpose (any purpose
    when none is named), an opt-out of sale or sharing those marked so or setting targeting cookies, an erasure
    or restriction those receiving one of the person's kinds of data."""
    qs = Vendor.objects.select_related("propagation_system").order_by("name")
    if event == "consent_withdrawn":
        qs = qs.filter(consent_purposes__key=purpose) if purpose else qs.filter(consent_purposes__isnull=False)
        return list(qs.distinct())
    if event == "opt_out":
        targeting = Vendor.objects.filter(declarations__category__key=TARGETING_CATEGORY).values("pk")
        return list(qs.filter(models.Q(sale_or_sharing=True) | models.Q(pk__in=targeting)).distinct())
    held = {c for c in categories if c}
    if not held:
        return []
    return [v for v in qs if _categories_overlap(v.data_categories or [], held)]


def latest_purpose_consent(*, user: AbstractBaseUser | AnonymousUser | None, purpose_key: str) -> PurposeConsent | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return (
        PurposeConsent.objects.filter(user=user, purpose__key=purpose_key)
        .select_related("version")
        .order_by("-created_at", "-pk")
        .first()
    )


def covers_current_wording(choice: PurposeConsent, versions: Iterable[PurposeVersion]) -> bool:
    """A grant counts until a later wording that asks everyone again; a typo fix does not undo it."""
    return not any(v.requires_new_consent and v.version > choice.version.version for v in versions)


def has_consent(*, user: AbstractBaseUser | AnonymousUser | None, purpose: str) -> bool:
    """True when the account holder's latest choice is a grant of the wording that is in force."""
    latest = latest_purpose_consent(user=user, purpose_key=purpose)
    if not (latest and latest.granted):
        return False
    newer = PurposeVersion.objects.filter(
        purpose_id=latest.purpose_id, version__gt=latest.version.version, requires_new_consent=True
    )
    return not newer.exists()


def list_purpose_states(*, user: AbstractBaseUser) -> list[dict]:
    """Each purpose with its current wording and the user's latest choice."""
    latest: dict[int, PurposeConsent] = {}
    for pc in PurposeConsent.objects.filter(user=user).select_related("version").order_by("created_at", "pk"):
        latest[pc.purpose_id] = pc
    out = []
    for purpose in Purpose.objects.prefetch_related("versions").order_by("order", "key"):
        versions = sorted(purpose.versions.all(), key=lambda v: v.version)
        if not versions:
            continue
        choice = latest.get(purpose.pk)
        out.append(
            {
                "purpose": purpose,
                "version": versions[-1],
                "choice": choice,
                "granted": bool(choice and choice.granted),
                # Given for an earlier wording that a later one replaced: it no longer counts (has_consent).
                "outdated": bool(choice and choice.granted and not covers_current_wording(choice, versions)),
            }
        )
    return out


def list_purpose_history(*, user: AbstractBaseUser) -> QuerySet[PurposeConsent]:
    """The user's full purpose-consent history, newest first."""
    return PurposeConsent.objects.filter(user=user).select_related("purpose", "version").order_by("-created_at", "-pk")


def estimate_count(queryset: QuerySet) -> int:
    """How many rows ``queryset`` holds, from PostgreSQL's planner estimate (no scan); exact elsewhere.

    Staff read it as "about N": the estimate comes from the table statistics that autovacuum keeps.
    """
    from django.db import connections

    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return queryset.count()
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


# --- who was told of a person's consent choices (filled in by fulfilment, which sends the notices) ---------------

_recipients_told_reader = None


def set_recipients_told_reader(reader) -> None:
    """Install the reader of the recipients told of an account's withdrawals and opt-outs: a callable taking
    ``user=`` and returning dicts with recipient, event, purpose, told_at, confirmed_at and state."""
    global _recipients_told_reader
    _recipients_told_reader = reader


def list_recipients_told(*, user) -> list[dict]:
    """The recipients told of this account's withdrawn consents and opt-outs, newest first."""
    return list(_recipients_told_reader(user=user)) if _recipients_told_reader is not None else []
