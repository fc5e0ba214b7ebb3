"""Demo data: a website whose page (/demo/shop/ on the portal) a first scan shows one finding on, and one clean tag."""

from django.conf import settings
from django.utils.translation import gettext_noop

from consent.defaults import ensure_categories
from consent.models import CookieDeclaration, Property, Revision
from scanner.models import ScanSettings

NAME = "Demo shop page"  # demo.views.DEMO_SHOP_PAGE names it too


def seed(*, users: int, stdout) -> None:
    """Register the demo shop page as a website, with the analytics cookie declared and the visit counter not."""
    cats = ensure_categories()
    origin = settings.SITE_URL.rstrip("/")
    prop, created = Property.objects.get_or_create(name=NAME, defaults={"allowed_origins": origin})
    if not created:
        return
    prop.categories.set(cats.values())
    Revision.objects.create(property=prop, number=prop.revision, material=True, note="First published.")
    CookieDeclaration.objects.create(
        property=prop,
        category=cats["performance"],
        name="_pa_id",
        provider="Example Analytics",
        purpose=gettext_noop("Distinguishes visitors for visit statistics."),
        duration=gettext_noop("13 months"),
    )
    ScanSettings.objects.create(property=prop, start_paths="/demo/shop/", max_pages=1)
    stdout.write(f"Website scanner demo: {NAME} at {origin}/demo/shop/")
