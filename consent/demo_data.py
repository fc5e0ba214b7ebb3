"""Demo data: the portal's own website, a second website, categories, declarations, vendors, purposes."""

import random
import uuid
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_noop

from consent.defaults import ensure_categories, ensure_purposes
from consent.models import ConsentMethod, ConsentRecord, CookieDeclaration, Property, Purpose, Revision, Vendor
from consent.services import invalidate_banner_cache, summarise_consent

PORTAL_ORIGINS = "http://127.0.0.1:8000\nhttp://localhost:8000"
SHOP_ORIGINS = "https://shop.example.com\nhttps://www.shop.example.com\nhttp://127.0.0.1:8001\nhttp://localhost:8001"


def seed(*, users: int, stdout) -> None:
    """Create the demo consent configuration (idempotent) and some banner history for the charts."""
    cats = ensure_categories()
    ensure_purposes()

    portal, _ = Property.objects.get_or_create(
        is_portal=True, defaults={"name": "Privacy portal", "allowed_origins": PORTAL_ORIGINS}
    )
    shop, created_shop = Property.objects.get_or_create(
        name="Demo shop", defaults={"allowed_origins": SHOP_ORIGINS, "default_language": "en"}
    )
    portal.categories.set(cats.values())
    shop.categories.set(cats.values())
    for prop in (portal, shop):
        if not prop.revisions.exists():
            Revision.objects.create(property=prop, number=prop.revision, material=True, note="First published.")

    # Texts the product supplies are marked for the catalogues and stored in English; the public pages show
    # them in the visitor's language (consent_tags.product_text). Staff-typed texts are shown as typed.
    vendors = {}
    for name, purpose, country, url in [
        (
            "Example Analytics",
            gettext_noop("Visit statistics for our websites."),
            gettext_noop("Ireland"),
            "https://analytics.example.com/privacy",
        ),
        (
            "Example Ads",
            gettext_noop("Advertising that matches visitors' interests."),
            gettext_noop("United States"),
            "https://ads.example.com/privacy",
        ),
        (
            "Example Payments",
            gettext_noop("Processing card payments in the shop."),
            gettext_noop("Netherlands"),
            "https://payments.example.com/privacy",
        ),
        (
            "Example Mailer",
            gettext_noop("Sending our e-mails."),
            gettext_noop("Germany"),
            "https://mailer.example.com/privacy",
        ),
    ]:
        vendors[name], _ = Vendor.objects.get_or_create(
            name=name, defaults={"purpose": purpose, "country": country, "privacy_policy_url": url}
        )
    for v in vendors.values():
        v.properties.add(shop)
    vendors["Example Analytics"].properties.add(portal)
    # What each receives and how it hears of opt-outs, withdrawals and erasures (set once; staff may change them).
    told = {
        "Example Analytics": {"not_told_reason": "Receives only pseudonymous visit statistics, never who visited."},
        "Example Ads": {
            "propagation_method": "email",
            "privacy_email": "privacy@ads.example.com",
            "sale_or_sharing": True,
        },
        "Example Payments": {
            "propagation_method": "email",
            "privacy_email": "privacy@payments.example.com",
            "data_categories": ["user.name", "user.contact.email", "user.contact.address"],
        },
        "Example Mailer": {
            "propagation_method": "email",
            "privacy_email": "privacy@mailer.example.com",
            "data_categories": ["user.name", "user.contact.email"],
        },
    }
    for name, fields in told.items():
        Vendor.objects.filter(name=name, propagation_method="none", not_told_reason="").update(**fields)
    marketing = Purpose.objects.filter(key=Purpose.MARKETING).first()
    if marketing is not None:
        vendors["Example Mailer"].consent_purposes.add(marketing)

    declarations = [
        (
            "sessionid",
            False,
            "necessary",
            gettext_noop("This website"),
            gettext_noop("Keeps you signed in during your visit."),
            gettext_noop("2 weeks"),
            "first",
            None,
        ),
        (
            "csrftoken",
            False,
            "necessary",
            gettext_noop("This website"),
            gettext_noop("Protects forms against cross-site request forgery."),
            gettext_noop("1 year"),
            "first",
            None,
        ),
        (
            "pp_consent",
            False,
            "necessary",
            gettext_noop("This website"),
            gettext_noop("Remembers your cookie choice."),
            gettext_noop("6 to 12 months"),
            "first",
            None,
        ),
        (
            "remember_me",
            False,
            "features",
            gettext_noop("This website"),
            gettext_noop("Keeps you signed in between visits if you ask it to."),
            gettext_noop("30 days"),
            "first",
            None,
        ),
        (
            "lang",
            False,
            "features",
            gettext_noop("This website"),
            gettext_noop("Remembers your language."),
            gettext_noop("1 year"),
            "first",
            None,
        ),
        (
            "_pa_id",
            False,
            "performance",
            "Example Analytics",
            gettext_noop("Distinguishes visitors for visit statistics."),
            gettext_noop("13 months"),
            "first",
            "Example Analytics",
        ),
        (
            "^_pa_ses_.*",
            True,
            "performance",
            "Example Analytics",
            gettext_noop("Groups the pages of one visit."),
            gettext_noop("30 minutes"),
            "first",
            "Example Analytics",
        ),
        (
            "ads_uid",
            False,
            "targeting",
            "Example Ads",
            gettext_noop("Recognises your browser across sites to choose ads."),
            gettext_noop("90 days"),
            "third",
            "Example Ads",
        ),
        (
            "^_xa_.*",
            True,
            "targeting",
            "Example Ads",
            gettext_noop("Measures which ads were seen and clicked."),
            gettext_noop("90 days"),
            "first",
            "Example Ads",
        ),
    ]
    for prop in (portal, shop):
        if prop.declarations.exists():
            continue
        CookieDeclaration.objects.bulk_create(
            CookieDeclaration(
                property=prop,
                name=n,
                is_regex=rx,
                category=cats[c],
                provider=pv,
                purpose=pu,
                duration=du,
                party=pa,
                vendor=vendors.get(vn) if vn else None,
            )
            for n, rx, c, pv, pu, du, pa, vn in declarations
            if prop is shop or c != "targeting"
        )
    if prop_has_no_records(shop):
        _seed_history(shop, count=max(users, 1) * 20)
    summarise_consent()  # the dashboard and the website page show the demo history at once, not after the job
    invalidate_banner_cache()
    stdout.write(f"consent: portal banner key {portal.key}, demo shop key {shop.key}\n")


def prop_has_no_records(prop: Property) -> bool:
    return not ConsentRecord.objects.filter(property=prop).exists()


def _seed_history(prop: Property, *, count: int) -> None:
    # A month of made-up banner choices so the admin chart has something to show.
    rng = random.Random(42)
    now = timezone.now()
    keys = list(prop.categories.values_list("key", flat=True))
    records = []
    for _ in range(count):
        method = rng.choices(
            [ConsentMethod.ACCEPT_ALL, ConsentMethod.REJECT_ALL, ConsentMethod.CUSTOM], weights=[5, 3, 2]
        )[0]
        choices = {
            k: k == "necessary"
            or (method == ConsentMethod.ACCEPT_ALL)
            or (method == ConsentMethod.CUSTOM and rng.random() < 0.5)
            for k in keys
        }
        records.append(
            ConsentRecord(
                consent_id=uuid.uuid4(),
                property=prop,
                revision=prop.revision,
                choices=choices,
                method=method,
                ip="198.51.100.0",
                user_agent_family=rng.choice(["Chrome", "Firefox", "Safari"]),
                page_url="https://shop.example.com/",
                gpc=False,
            )
        )
    ConsentRecord.objects.bulk_create(records)
    # auto_now_add ignores given values; spread the demo history over the last 30 days afterwards.
    by_day: dict[int, list[int]] = {}
    for r in records:
        by_day.setdefault(rng.randrange(30), []).append(r.pk)
    for day, pks in by_day.items():
        ConsentRecord.objects.filter(pk__in=pks).update(created_at=now - timedelta(days=day))
