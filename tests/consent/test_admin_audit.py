"""Every admin save of consent configuration goes through a service that writes the audit trail."""

import pytest

from audit.models import ActorKind, AuditEvent
from audit.selectors import list_object_events
from consent.models import Category, CookieDeclaration, Property, Purpose, PurposeVersion, Vendor
from tests.audit.helpers import change_form_data, officer

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client(client):
    user = officer()
    client.force_login(user)
    client.user = user
    return client


def test_website_edit_in_admin_records_old_and_new_values_and_a_revision(officer_client, prop):
    url = f"/admin/consent/property/{prop.pk}/change/"
    data = change_form_data(
        officer_client.get(url),
        name="Shop (EU)",
        material_change="on",
        change_note="Ads cookie added",
    )
    response = officer_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    changed = list_object_events(obj=prop).get(verb="changed")
    assert changed.actor == officer_client.user and changed.actor_kind == ActorKind.STAFF
    assert (changed.old, changed.new) == ({"name": "Shop"}, {"name": "Shop (EU)"})
    bumped = list_object_events(obj=prop).get(verb="revision_bumped")
    assert bumped.new == {"revision": 2} and bumped.note == "Ads cookie added"
    trail = officer_client.get(f"/admin/consent/property/{prop.pk}/audit/").content.decode()
    assert "Shop (EU)" in trail and "New banner revision" in trail and "revision_bumped" not in trail


def test_cookie_declarations_added_and_deleted_inline_are_audited(officer_client, prop, categories):
    url = f"/admin/consent/property/{prop.pk}/change/"
    page = officer_client.get(url)
    data = change_form_data(page)
    first = prop.declarations.order_by("pk").first()
    index = next(i for i in range(prop.declarations.count()) if str(data.get(f"declarations-{i}-id")) == str(first.pk))
    data[f"declarations-{index}-DELETE"] = "on"
    total = int(data["declarations-TOTAL_FORMS"])
    data.update(
        {
            "declarations-TOTAL_FORMS": str(total + 1),
            f"declarations-{total}-name": "remember_me",
            f"declarations-{total}-category": str(categories["features"].pk),
            f"declarations-{total}-provider": "Shop",
            f"declarations-{total}-purpose": "Keeps you signed in",
            f"declarations-{total}-duration": "30 days",
            f"declarations-{total}-party": "first",
            f"declarations-{total}-property": str(prop.pk),
        }
    )
    response = officer_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    added = CookieDeclaration.objects.get(name="remember_me")
    created = list_object_events(obj=added).get(verb="created")
    assert created.actor == officer_client.user and created.new["purpose"] == "Keeps you signed in"
    deleted = AuditEvent.objects.get(verb="deleted", object_id=str(first.pk))
    assert deleted.old["name"] == first.name and not CookieDeclaration.objects.filter(pk=first.pk).exists()


def test_category_edit_in_admin_is_audited_with_the_changed_names(officer_client, categories):
    category = categories["performance"]
    url = f"/admin/consent/category/{category.pk}/change/"
    response = officer_client.post(url, change_form_data(officer_client.get(url), name_en="Statistics"))
    assert response.status_code == 302, response.content.decode()[:3000]
    event = list_object_events(obj=category).get(verb="changed")
    assert event.actor == officer_client.user
    assert event.old["name"]["en"] != "Statistics" and event.new["name"]["en"] == "Statistics"
    assert Category.objects.get(pk=category.pk).name["en"] == "Statistics"


def test_website_created_in_admin_is_audited_with_its_categories(officer_client, categories):
    page = officer_client.get("/admin/consent/property/add/")
    data = change_form_data(
        page,
        name="Blog",
        allowed_origins="https://blog.example.com",
        categories=[str(categories["necessary"].pk), str(categories["performance"].pk)],
    )
    response = officer_client.post("/admin/consent/property/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    blog = Property.objects.get(name="Blog")
    created = list_object_events(obj=blog).get(verb="created")
    assert created.actor == officer_client.user
    assert sorted(created.new["categories"]) == sorted(str(c) for c in blog.categories.all())
    assert created.new["key"] == blog.key  # a website's public key is an identifier, not a secret


def test_vendor_and_purpose_wording_added_in_admin_are_audited(officer_client, prop, purposes):
    page = officer_client.get("/admin/consent/vendor/add/")
    data = change_form_data(
        page,
        name="Example Analytics Ltd",
        purpose="Visit statistics",
        country="Ireland",
        privacy_policy_url="https://analytics.example.com/privacy",
        properties=[str(prop.pk)],
        consent_purposes=[],
        data_categories=[],
        propagation_method="none",
        not_told_reason="Receives only counts of visits, no one's identity.",
    )
    response = officer_client.post("/admin/consent/vendor/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    vendor = Vendor.objects.get(name="Example Analytics Ltd")
    created = list_object_events(obj=vendor).get(verb="created")
    assert created.actor == officer_client.user and created.new["properties"] == [str(prop)]

    purpose = Purpose.objects.order_by("pk").first()
    url = f"/admin/consent/purpose/{purpose.pk}/change/"
    data = change_form_data(officer_client.get(url))
    last = purpose.versions.order_by("-version").first()
    new = int(data["versions-TOTAL_FORMS"]) - 1  # the blank extra form
    data.update(
        {
            f"versions-{new}-version": str(last.version + 1),
            f"versions-{new}-title": "Newsletter",
            f"versions-{new}-wording": "A monthly e-mail about new features.",
            f"versions-{new}-purpose": str(purpose.pk),
        }
    )
    response = officer_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    version = PurposeVersion.objects.get(purpose=purpose, version=last.version + 1)
    event = list_object_events(obj=version).get(verb="created")
    assert event.actor == officer_client.user and event.new["wording"] == "A monthly e-mail about new features."


def test_revision_added_and_cookie_edited_on_their_own_admin_pages_are_audited(officer_client, prop):
    response = officer_client.post(
        "/admin/consent/revision/add/", {"property": prop.pk, "material": "on", "note": "New ad partner"}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    bumped = list_object_events(obj=prop).get(verb="revision_bumped")
    assert (bumped.actor, bumped.old, bumped.new) == (officer_client.user, {"revision": 1}, {"revision": 2})

    cookie = prop.declarations.order_by("pk").first()
    url = f"/admin/consent/cookiedeclaration/{cookie.pk}/change/"
    response = officer_client.post(url, change_form_data(officer_client.get(url), duration="6 months"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    changed = list_object_events(obj=cookie).get(verb="changed")
    assert (changed.actor, changed.old, changed.new) == (
        officer_client.user,
        {"duration": "13 months"},
        {"duration": "6 months"},
    )
