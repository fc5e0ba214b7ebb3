"""Privacy officers edit systems and tables in admin, in their own words, and accept a discovery proposal."""

import pytest
import sqlalchemy as sa
from django.contrib.auth.models import Permission
from django.urls import reverse

from audit.models import AuditEvent
from systems.models import ExternalSystem, SystemDataset
from systems.services import load_systems
from tests.systems.conftest import SHOP_YAML, make_shop_schema

pytestmark = pytest.mark.django_db


def _inline_management(prefix: str, total: int, initial: int) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": total,
        f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def test_adding_a_system_and_a_table_in_admin(client, staff_user):
    client.force_login(staff_user)
    response = client.post(
        reverse("admin:systems_externalsystem_add"),
        {
            "name": "CRM",
            "key": "crm",
            "kind": "sql",
            "actions": ["access", "erasure"],
            "owner_name": "Sales",
            "owner_email": "sales@example.com",
            "url_env": "CRM_DATABASE_URL",
            "url": "",
            "secret_env": "",
            "timeout": "10",
            **_inline_management("datasets", 0, 0),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    system = ExternalSystem.objects.get(key="crm")
    assert system.actions == ["access", "erasure"]
    response = client.post(
        reverse("admin:systems_systemdataset_add"),
        {
            "system": system.pk,
            "table": "contacts",
            "title": "Contacts",
            "description": "",
            "email_column": "email",
            "user_id_column": "",
            "links": "",
            "other_columns_text": "created_at, source",
            **_inline_management("fields", 2, 0),
            **_inline_management("retention_rules", 0, 0),
            "fields-0-name": "email",
            "fields-0-category": "user.contact.email",
            "fields-0-purpose": "sales",
            "fields-0-legal_basis": "legitimate_interests",
            "fields-0-recipients_text": "Mail provider, CRM vendor",
            "fields-0-strategy": "pseudonymise",
            "fields-0-keep_reason": "",
            "fields-1-name": "notes",
            "fields-1-category": "user.content.private",
            "fields-1-purpose": "sales",
            "fields-1-legal_basis": "legitimate_interests",
            "fields-1-recipients_text": "",
            "fields-1-strategy": "keep",
            "fields-1-keep_reason": "",
        },
    )
    assert response.status_code == 200  # a kept column needs its reason
    assert "Say why this column is kept" in response.content.decode()
    assert not SystemDataset.objects.exists()


def test_editing_a_table_in_admin_is_audited(client, staff_user):
    (system,) = load_systems(text=SHOP_YAML)
    orders = system.datasets.get(table="orders")
    client.force_login(staff_user)
    page = client.get(reverse("admin:systems_systemdataset_change", args=[orders.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "customer_id = customers.id" in html and "Links to other tables" in html
    field = orders.fields.get()
    rule = orders.retention_rules.get()
    response = client.post(
        reverse("admin:systems_systemdataset_change", args=[orders.pk]),
        {
            "system": system.pk,
            "table": "orders",
            "title": "Orders",
            "description": "",
            "email_column": "",
            "user_id_column": "",
            "links": "customer_id = customers.id",
            "other_columns_text": "",
            **_inline_management("fields", 1, 1),
            **_inline_management("retention_rules", 1, 1),
            "fields-0-id": field.pk,
            "fields-0-dataset": orders.pk,
            "fields-0-name": "shipping_address",
            "fields-0-category": "user.contact.address",
            "fields-0-purpose": "delivery",
            "fields-0-legal_basis": "contract",
            "fields-0-recipients_text": "Courier",
            "fields-0-strategy": "mask",
            "fields-0-keep_reason": "",
            "retention_rules-0-id": rule.pk,
            "retention_rules-0-dataset": orders.pk,
            "retention_rules-0-name": "shop-orders",
            "retention_rules-0-period_days": "3650",
            "retention_rules-0-date_field": "created_at",
            "retention_rules-0-action": "delete",
            "retention_rules-0-fields_text": "",
            "retention_rules-0-legal_basis": "Tax law.",
        },
    )
    assert response.status_code == 302
    field.refresh_from_db()
    assert field.recipients == ["Courier"]
    event = AuditEvent.objects.filter(verb="changed").get()
    assert event.actor == staff_user and "Orders" in str(event.new) and "Shop orders" in str(event.old)


def test_the_discovery_review_page_shows_the_proposal_and_accepts_it(client, staff_user, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    monkeypatch.setenv("LEGACY_SHOP_DATABASE_URL", url)
    make_shop_schema(url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE reviews (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id), body TEXT)"
        )
    engine.dispose()
    (system,) = load_systems(text=SHOP_YAML)
    client.force_login(staff_user)
    change = client.get(reverse("admin:systems_externalsystem_change", args=[system.pk])).content.decode()
    review_url = reverse("admin:systems_externalsystem_discover", args=[system.pk])
    assert review_url in change and "Read the database's layout" in change
    action = client.post(
        reverse("admin:systems_externalsystem_changelist"), {"action": "discover", "_selected_action": [system.pk]}
    )
    assert action.status_code == 302 and action["Location"] == review_url
    page = client.get(review_url)
    html = page.content.decode()
    assert (
        "new table reviews" in html
        and "Messages and conversations" in html
        and "customer_id points at customers.id" in html
    )
    assert "user.content.private" not in html  # categories in words, not keys
    refused = client.post(review_url, {"digest": "stale"})
    assert refused.status_code == 200 and not system.datasets.filter(table="reviews").exists()
    accepted = client.post(review_url, {"digest": page.context["digest"]})
    assert accepted.status_code == 302
    assert system.datasets.get(table="reviews").references == {"customer_id": "customers.id"}
    assert AuditEvent.objects.filter(verb="discovery_accepted", actor=staff_user).exists()


def test_the_review_page_needs_the_change_permission(client, user_factory, staff_user):
    (system,) = load_systems(text=SHOP_YAML)
    viewer = user_factory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_externalsystem"))
    client.force_login(viewer)
    assert client.get(reverse("admin:systems_externalsystem_change", args=[system.pk])).status_code == 200
    assert client.get(reverse("admin:systems_externalsystem_discover", args=[system.pk])).status_code == 403
