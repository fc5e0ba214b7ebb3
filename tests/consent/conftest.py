import pytest

from consent.defaults import ensure_categories, ensure_purposes
from consent.models import CookieDeclaration, Property

HOST_ORIGIN = "https://www.shop.example.com"


@pytest.fixture
def categories(db):
    return ensure_categories()


@pytest.fixture
def purposes(db):
    return ensure_purposes()


@pytest.fixture
def make_property(categories):
    def make(**kwargs):
        kwargs.setdefault("name", "Shop")
        kwargs.setdefault("allowed_origins", HOST_ORIGIN)
        prop = Property.objects.create(**kwargs)
        prop.categories.set(categories.values())
        CookieDeclaration.objects.create(
            property=prop,
            category=categories["performance"],
            name="_pa_id",
            provider="Example Analytics",
            purpose="Visit statistics",
            duration="13 months",
        )
        CookieDeclaration.objects.create(
            property=prop,
            category=categories["targeting"],
            name="^_xa_.*",
            is_regex=True,
            provider="Example Ads",
            purpose="Ads",
            duration="90 days",
        )
        return prop

    return make


@pytest.fixture
def prop(make_property):
    return make_property()


@pytest.fixture
def portal_property(make_property):
    return make_property(name="Portal", is_portal=True, allowed_origins="http://127.0.0.1:8000")
