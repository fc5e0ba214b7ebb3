"""Writes and rules for consent: the proof log, revisions, purpose consents, unsubscribe links."""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.services import audited_fields, changes, record_event, snapshot
from consent.models import (
    Category,
    ConsentMethod,
    ConsentRecord,
    CookieDeclaration,
    PropagationMethod,
    Property,
    Purpose,
    PurposeConsent,
    PurposeConsentSource,
    PurposeVersion,
    RefusedOrigin,
    Revision,
    Vendor,
)
from consent.selectors import PORTAL_KEY_CACHE_KEY, config_cache_key, get_property_config, has_consent
from core.permissions import officer_emails

if TYPE_CHECKING:
    from uuid import UUID

    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

    from systems.models import ExternalSystem

logger = logging.getLogger(__name__)

TARGETING = "targeting"
UNSUBSCRIBE_SALT = "consent.unsubscribe"
# Refused origins kept per property: enough for every real website, while a client inventing origins
# cannot grow the table without bound (past the cap, known origins are still counted, new ones dropped).
REFUSED_ORIGINS_MAX = 50
REFUSED_ORIGIN_ALERT_EVERY = timedelta(days=1)
ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.-]{1,180}(:[0-9]{1,5})?$")


# --- pure rules ------------------------------------------------------------------


def origin_allowed(*, origin: str, allowed: Iterable[str], own_origin: str) -> bool:
    """Whether a browser request's Origin may use a property: one of its allowed origins, or the portal's own."""
    return bool(origin) and (origin in allowed or origin == own_origin)


def truncate_ip(ip: str | None) -> str | None:
    """Keep the network part only: IPv4 /24, IPv6 /48."""
    try:
        addr = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False).network_address)


@lru_cache(maxsize=2048)
def user_agent_family(user_agent: str) -> str:
    """The browser family only (e.g. 'Chrome'), never the full user-agent string."""
    if not user_agent:
        return ""
    from user_agents import parse

    return parse(user_agent[:512]).browser.family[:100]


def clean_page_url(url: str | None) -> str:
    """The page URL without query string, fragment or credentials."""
    if not url:
        return ""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https"):
        return ""
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))[:500]


def normalise_choices(*, config: dict, choices: dict[str, bool], method: str, gpc: bool) -> tuple[dict, str]:
    """Complete a choice for every enabled category; necessary always on; GPC turns targeting off by default.

    Under GPC an "accept all" keeps targeting off and is logged as method ``gpc``;
    an explicit custom opt-in to targeting is respected.
    """
    if method == ConsentMethod.GPC and not gpc:
        raise ValidationError({"method": "The gpc method needs a Global Privacy Control signal."})
    keys = [c["key"] for c in config["categories"]]
    unknown = sorted(set(choices) - set(keys))
    if unknown:
        raise ValidationError({"choices": f"Unknown categories: {', '.join(unknown)}"})
    if method == ConsentMethod.ACCEPT_ALL:
        out = dict.fromkeys(keys, True)
    elif method == ConsentMethod.REJECT_ALL:
        out = dict.fromkeys(keys, False)
    else:
        out = {k: bool(choices.get(k, False)) for k in keys}
    out[Category.NECESSARY] = True
    if gpc and TARGETING in out and method in (ConsentMethod.ACCEPT_ALL, ConsentMethod.GPC):
        out[TARGETING] = False
        method = ConsentMethod.GPC
    return out, method


# --- proof of consent ------------------------------------------------------------------


def record_consent(
    *,
    property_key: str,
    consent_id: UUID,
    revision: int,
    choices: dict[str, bool],
    method: str,
    user: AbstractBaseUser | AnonymousUser | None = None,
    ip: str | None = None,
    user_agent: str = "",
    page_url: str = "",
    gpc: bool = False,
    config: dict | None = None,
) -> ConsentRecord:
    """Append one choice to the proof-of-consent log (the only way records are made)."""
    config = config or get_property_config(property_key)
    if config is None:
        raise Property.DoesNotExist(property_key)
    if revision > config["revision"]:
        config = get_property_config(property_key, fresh=True) or config  # a bump this process has not seen yet
    if method not in ConsentMethod.values:
        raise ValidationError({"method": f"Unknown method {method!r}."})
    if revision < 1 or revision > config["revision"]:
        raise ValidationError({"revision": f"Revision must be between 1 and {config['revision']}."})
    final, method = normalise_choices(config=config, choices=choices, method=method, gpc=gpc)
    account = user if user is not None and getattr(user, "is_authenticated", False) else None
    record = ConsentRecord.objects.create(
        consent_id=consent_id,
        property_id=config["pk"],
        revision=revision,
        choices=final,
        method=method,
        user=account,
        ip=truncate_ip(ip),
        user_agent_family=user_agent_family(user_agent or ""),
        page_url=clean_page_url(page_url),
        gpc=gpc,
    )
    if gpc and account is not None:
        # GPC from a logged-in account is an opt-out of sale or sharing by a known person (CCPA): recipients hear.
        from consent.signals import GPC_PURPOSE, announce_withdrawal

        announce_withdrawal(user=account, purpose=GPC_PURPOSE, source="gpc", gpc=True)
    return record


# --- refused origins ------------------------------------------------------------------------


def record_refused_origin(*, property_pk: int, origin: str, now: datetime | None = None) -> RefusedOrigin | None:
    """Count one request refused because its origin is not allowed; alert the privacy officers once a day per origin.

    Returns the row, or None when the origin is not a website address or the property's list is full.
    """
    origin = origin.strip().rstrip("/").lower()
    if not ORIGIN_RE.fullmatch(origin):
        return None
    now = now or timezone.now()
    rows = RefusedOrigin.objects.filter(property_id=property_pk, origin=origin)
    if not rows.update(count=F("count") + 1, last_seen=now):
        if RefusedOrigin.objects.filter(property_id=property_pk).count() >= REFUSED_ORIGINS_MAX:
            return None
        try:
            with transaction.atomic():
                RefusedOrigin.objects.create(property_id=property_pk, origin=origin, count=1, last_seen=now)
        except IntegrityError:  # another process inserted it first
            rows.update(count=F("count") + 1, last_seen=now)
    # Claimed by one conditional update, so concurrent processes send one alert between them.
    due = Q(alerted_at__isnull=True) | Q(alerted_at__lte=now - REFUSED_ORIGIN_ALERT_EVERY)
    if rows.filter(due).update(alerted_at=now):
        row = rows.get()
        transaction.on_commit(lambda: _queue_refused_origin_alert(row.pk), robust=True)
        return row
    return rows.first()


def _queue_refused_origin_alert(refused_origin_pk: int) -> None:
    from consent.tasks import alert_refused_origin_task

    alert_refused_origin_task.delay(refused_origin_pk)


def alert_refused_origin(*, refused_origin_pk: int) -> int:
    """E-mail the privacy officers that a website address was refused; returns the number of recipients."""
    from core.mail import send_templated_mail

    row = RefusedOrigin.objects.select_related("property").filter(pk=refused_origin_pk).first()
    if row is None:
        return 0
    recipients = officer_emails()
    if not recipients:
        return 0
    send_templated_mail(
        to=recipients,
        template="mail/consent/refused_origin",
        context={
            "website": row.property.name,
            "origin": row.origin,
            "count": row.count,
            "first_seen": row.first_seen,
            "admin_url": settings.SITE_URL + reverse("admin:consent_property_change", args=[row.property_id]),
        },
    )
    return len(recipients)


# --- configuration -----------------------------------------------------------------------


def invalidate_banner_cache(*, keys: list[str] | None = None) -> None:
    """Drop cached banner configurations (all properties when ``keys`` is None)."""
    if keys is None:
        keys = list(Property.objects.values_list("key", flat=True))
    from consent.banner import script_cache_key
    from consent.selectors import forget_local_configs

    forget_local_configs()
    cache.delete_many(
        [config_cache_key(k) for k in keys] + [script_cache_key(k) for k in keys] + [PORTAL_KEY_CACHE_KEY]
    )


@transaction.atomic
def record_revision(
    *, prop: Property, note: str, actor: AbstractBaseUser | None = None, material: bool = True
) -> Revision:
    """Add to a property's change history; a material change bumps the revision so every visitor is asked again."""
    prop = Property.objects.select_for_update().get(pk=prop.pk)
    old_revision = prop.revision
    if material:
        prop.revision += 1
        prop.save(update_fields=["revision", "updated_at"])
    revision = Revision.objects.create(
        property=prop, number=prop.revision, material=material, note=note, created_by=actor
    )
    record_event(
        actor=actor,
        obj=prop,
        verb=ConfigVerb.REVISION_BUMPED if material else ConfigVerb.REVISION_NOTED,
        old={"revision": old_revision},
        new={"revision": prop.revision},
        note=note,
    )
    key = prop.key
    transaction.on_commit(lambda: invalidate_banner_cache(keys=[key]))
    return revision


# --- configuration: websites, categories, cookies, vendors, purposes -----------------------


class ConfigVerb(models.TextChoices):
    CREATED = "created", _("Created")
    CHANGED = "changed", _("Changed")
    DELETED = "deleted", _("Deleted")
    REVISION_BUMPED = "revision_bumped", _("New banner revision (visitors asked again)")
    REVISION_NOTED = "revision_noted", _("Change noted in the revision history")


# Staff configure these in admin; every save and delete goes through the two services below.
CONFIG_MODELS = (Property, Category, CookieDeclaration, Vendor, Purpose, PurposeVersion)
ConfigObject = Property | Category | CookieDeclaration | Vendor | Purpose | PurposeVersion


def _reload_banners_on_commit() -> None:
    # Now, and again once the transaction commits: a banner request served in between would otherwise
    # cache the old settings (allowed origins included) until the cache entry expires.
    invalidate_banner_cache()
    transaction.on_commit(invalidate_banner_cache)


# The actions of a web service that a third party's notices are sent as (README, "Telling the recipients").
VENDOR_SYSTEM_ACTIONS = ("opt_out", "consent")


def check_vendor_propagation(
    *, method: str, system: ExternalSystem | None, privacy_email: str, not_told_reason: str, data_categories: list
) -> None:
    """Refuse a way of telling a third party that cannot work: no method without a reason, an e-mail without an
    address, a web service that takes neither opt-outs nor consent withdrawals, or an unknown kind of data."""
    from registry.taxonomy import DATA_CATEGORIES

    errors: dict[str, str] = {}
    if method not in PropagationMethod.values:
        errors["propagation_method"] = _("Choose how this third party is told.")
    elif method == PropagationMethod.NONE and not (not_told_reason or "").strip():
        errors["not_told_reason"] = _("Say why this third party is not told of opt-outs, withdrawals and erasures.")
    elif method == PropagationMethod.EMAIL and not (privacy_email or "").strip():
        errors["privacy_email"] = _("Give the e-mail address of their privacy contact.")
    elif method == PropagationMethod.HTTP:
        if system is None:
            errors["propagation_system"] = _("Choose the web service that tells them.")
        elif system.kind != "http" or not any(system.supports(a) for a in VENDOR_SYSTEM_ACTIONS):
            errors["propagation_system"] = _(
                "%(system)s is not a web service that takes opt-outs or consent withdrawals."
            ) % {"system": system.name}
    # A parent key of the taxonomy ("user.contact") stands for every kind under it.
    known = set(DATA_CATEGORIES) | {k.rsplit(".", i)[0] for k in DATA_CATEGORIES for i in range(1, k.count(".") + 1)}
    unknown = [c for c in data_categories or [] if c not in known]
    if unknown:
        errors["data_categories"] = _("Unknown kinds of data: %(keys)s.") % {"keys": ", ".join(map(str, unknown))}
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_configuration(
    *, obj: ConfigObject, actor: AbstractBaseUser | None, save_m2m: Callable[[], None] | None = None
) -> ConfigObject:
    """Save a website, category, cookie, vendor or purpose as staff edited it, record what changed, reload banners."""
    model = type(obj)
    if model not in CONFIG_MODELS:
        raise TypeError(f"{model.__name__} is not consent configuration")
    if model is Vendor:
        check_vendor_propagation(
            method=obj.propagation_method,
            system=obj.propagation_system,
            privacy_email=obj.privacy_email,
            not_told_reason=obj.not_told_reason,
            data_categories=obj.data_categories,
        )
    fields = audited_fields(model)
    stored = model.objects.filter(pk=obj.pk).first() if obj.pk is not None else None
    before = snapshot(stored, fields) if stored is not None else None
    obj.save()
    if save_m2m is not None:
        save_m2m()
    after = snapshot(obj, fields)
    if before is None:
        record_event(actor=actor, obj=obj, verb=ConfigVerb.CREATED, new=after)
    else:
        old, new = changes(before, after)
        if new:
            record_event(actor=actor, obj=obj, verb=ConfigVerb.CHANGED, old=old, new=new)
    _reload_banners_on_commit()
    return obj


@transaction.atomic
def delete_configuration(*, obj: ConfigObject, actor: AbstractBaseUser | None) -> None:
    """Delete a website, category, cookie, vendor or purpose; the trail keeps what it was."""
    model = type(obj)
    if model not in CONFIG_MODELS:
        raise TypeError(f"{model.__name__} is not consent configuration")
    record_event(actor=actor, obj=obj, verb=ConfigVerb.DELETED, old=snapshot(obj, audited_fields(model)))
    obj.delete()
    _reload_banners_on_commit()


# --- purpose consents ----------------------------------------------------------------------


@transaction.atomic
def set_purpose_consent(
    *, user: AbstractBaseUser, purpose: str, granted: bool, source: str = PurposeConsentSource.ACCOUNT
) -> PurposeConsent:
    """Grant or withdraw a purpose for an account holder against its current wording; history is kept."""
    try:
        purpose_obj = Purpose.objects.get(key=purpose)
    except Purpose.DoesNotExist:
        raise ValidationError(f"Unknown purpose {purpose!r}.")
    version = purpose_obj.current_version()
    if version is None:
        raise ValidationError(f"Purpose {purpose!r} has no wording yet.")
    consent = PurposeConsent.objects.create(
        user=user, purpose=purpose_obj, version=version, granted=granted, source=source
    )
    if not granted:
        from consent.signals import announce_withdrawal

        announce_withdrawal(user=user, purpose=purpose, source=source)
    return consent


def set_marketing_subscription(
    *, user: AbstractBaseUser, subscribed: bool, source: str = PurposeConsentSource.EMAIL_PREFERENCES
) -> bool:
    """Turn marketing e-mail on or off for an account holder; records a consent only when the choice changes."""
    if has_consent(user=user, purpose=Purpose.MARKETING) == subscribed:
        return False
    set_purpose_consent(user=user, purpose=Purpose.MARKETING, granted=subscribed, source=source)
    return True


def build_unsubscribe_url(*, user: AbstractBaseUser, purpose: str = Purpose.MARKETING) -> str:
    """A signed, login-free, one-click (RFC 8058) unsubscribe URL for marketing mail."""
    token = signing.dumps({"u": user.pk, "p": purpose}, salt=UNSUBSCRIBE_SALT, compress=True)
    return settings.SITE_URL + reverse("consent:unsubscribe", kwargs={"token": token})


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """(user id, purpose) from a signed unsubscribe token; raises ValidationError when forged."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        return int(data["u"]), str(data["p"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ValidationError("This unsubscribe link is not valid.")


def unsubscribe(*, token: str) -> PurposeConsent | None:
    """Withdraw the purpose named in a signed link; idempotent (no new row when already withdrawn)."""
    from django.contrib.auth import get_user_model

    from consent.selectors import latest_purpose_consent

    user_id, purpose = read_unsubscribe_token(token)
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return None
    # Any standing grant is withdrawn, even one for a wording that no longer counts, so the history is plain.
    latest = latest_purpose_consent(user=user, purpose_key=purpose)
    if latest is None or not latest.granted:
        return None
    return set_purpose_consent(user=user, purpose=purpose, granted=False, source=PurposeConsentSource.UNSUBSCRIBE)


# --- the daily roll-up of the consent log --------------------------------------------------

# Rows commit a little after their created_at (auto_now_add is set before the INSERT): each run recounts the
# days from this long before the previous run, so a row that committed late is never missed.
SUMMARY_MARGIN = timedelta(minutes=15)
# A catch-up recounts at most this many days per query, so each one is a bounded range scan of the time index.
SUMMARY_CHUNK_DAYS = 31


def _org_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def _day_ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    """Sorted days as runs of consecutive days, each at most SUMMARY_CHUNK_DAYS long: [(first, last), ...]."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if ranges and day == ranges[-1][1] + timedelta(days=1) and (day - ranges[-1][0]).days < SUMMARY_CHUNK_DAYS:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def _recount_days(*, first: date, last: date, tz: ZoneInfo) -> int:
    """Replace the roll-up of the days first..last (inclusive) with fresh counts from the log; rows written."""
    from django.db.models import Count
    from django.db.models.functions import TruncDate

    from consent.models import ConsentDailySummary

    start, end = _day_start(first, tz), _day_start(last + timedelta(days=1), tz)
    rows = (
        ConsentRecord.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day", "property_id", "method", "gpc")
        .annotate(n=Count("id"))
        .order_by()
    )
    fresh = [
        ConsentDailySummary(day=r["day"], property_id=r["property_id"], method=r["method"], gpc=r["gpc"], count=r["n"])
        for r in rows
    ]
    ConsentDailySummary.objects.filter(day__gte=first, day__lte=last).delete()
    ConsentDailySummary.objects.bulk_create(fresh, batch_size=1000)
    return len(fresh)


@transaction.atomic
def summarise_consent(*, now: datetime | None = None, full: bool = False) -> dict:
    """Bring the daily consent figures up to date with the log, recounting only the days that changed.

    The days recounted are those of the log rows added since the last run (found by key, past the watermark)
    and every day since shortly before the last run. Recounting a day replaces its figures, so a rerun gives
    the same figures and a run after downtime catches up on every day it missed. ``full`` recounts every day
    the log holds. The log itself is only read. No audit row: the figures are derived, and they change every
    few minutes. Runs one at a time (an advisory lock on PostgreSQL).
    """
    from django.db import connection
    from django.db.models import Max, Min
    from django.db.models.functions import TruncDate

    from consent.models import ConsentDailySummary, ConsentSummaryState

    now = now or timezone.now()
    tz = _org_tz()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["consent.summarise_consent"])
    state, _created = ConsentSummaryState.objects.select_for_update().get_or_create(key="consent")
    top = ConsentRecord.objects.aggregate(m=Max("id"))["m"] or 0
    days: set[date] = set()
    if full or state.summarised_at is None:
        # First run (or a full recount): every day between the oldest and the newest row, from the time index.
        bounds = ConsentRecord.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
        if bounds["first"] is not None:
            first, last = timezone.localtime(bounds["first"], tz).date(), timezone.localtime(bounds["last"], tz).date()
            days = {first + timedelta(days=i) for i in range((last - first).days + 1)}
        if full:
            ConsentDailySummary.objects.exclude(day__in=days).delete()
    else:
        # Rows added since the last run, whatever their date (a back-dated import too), by key.
        added = ConsentRecord.objects.filter(id__gt=state.last_record_id, id__lte=top)
        days |= set(added.annotate(day=TruncDate("created_at", tzinfo=tz)).values_list("day", flat=True).distinct())
        # And every day since shortly before the last run: rows that committed after it with an earlier key.
        since = timezone.localtime(state.summarised_at - SUMMARY_MARGIN, tz).date()
        today = timezone.localtime(now, tz).date()
        days |= {since + timedelta(days=i) for i in range((today - since).days + 1)}
    written = 0
    ranges = _day_ranges(days)
    for first, last in ranges:
        written += _recount_days(first=first, last=last, tz=tz)
    state.last_record_id = max(top, state.last_record_id)
    state.summarised_at = now
    state.save(update_fields=["last_record_id", "summarised_at"])
    return {"days": len(days), "ranges": len(ranges), "rows": written, "last_record_id": state.last_record_id}
