"""A person's requests reach the organisation's own databases: the export holds their external rows and nobody
else's, the approved erasure applies the declared strategies there, and a system that does not answer makes
the work wait, said in words, instead of completing without it."""

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from django.conf import settings
from django.utils import timezone

from fulfilment import services
from fulfilment.models import DataExport, ErasureRun
from registry.strategies import MASK_TEXT, PSEUDONYM_PREFIX
from requests_app.services import create_verified_request
from systems.services import load_systems
from tests.systems.conftest import SHOP_YAML, insert, make_shop_schema, select_all

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 1, 12, 0)


@pytest.fixture
def officer(user_factory):
    from django.contrib.auth.models import Group

    user = user_factory(is_staff=True, email="officer@example.com")
    user.groups.add(Group.objects.get_or_create(name="Privacy officer")[0])
    return user


@pytest.fixture
def shop(shop_url, monkeypatch, user_factory):
    """The README's shop, holding rows of A (a portal account holder) and B (someone else), ids crossed."""
    monkeypatch.setenv("LEGACY_SHOP_DATABASE_URL", shop_url)
    tables = make_shop_schema(shop_url)
    a = user_factory(email="ann@example.com")
    insert(
        shop_url,
        tables["customers"],
        [
            {
                "id": 10,
                "email": "Ann@Example.com",
                "full_name": "Ann A",
                "password_hash": "pbkdf2$x",
                "created_at": NOW,
            },
            {
                "id": 20,
                "email": "bob@example.com",
                "full_name": "Bob B",
                "password_hash": "pbkdf2$y",
                "created_at": NOW,
            },
        ],
    )
    insert(
        shop_url,
        tables["orders"],
        [
            {"id": 20, "customer_id": 10, "shipping_address": "1 Ann Street", "created_at": NOW},
            {"id": 10, "customer_id": 20, "shipping_address": "2 Bob Road", "created_at": NOW},
        ],
    )
    insert(
        shop_url,
        tables["order_items"],
        [{"id": 100, "order_id": 20, "sku": "ANN-SKU"}, {"id": 200, "order_id": 10, "sku": "BOB-SKU"}],
    )
    load_systems(text=SHOP_YAML)
    return {"url": shop_url, "a": a}


def _zip(export: DataExport) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO((Path(settings.PRIVATE_ROOT) / export.file_path).read_bytes()))


def test_the_export_holds_the_persons_rows_of_every_level_and_none_of_anothers(
    shop, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        data_request = create_verified_request(user=shop["a"], kind="access")
    export = DataExport.objects.get(data_request=data_request)
    assert export.state == DataExport.State.READY, export.error
    zf = _zip(export)
    blob = b"".join(zf.read(n) for n in zf.namelist())
    for mine in (b"Ann A", b"1 Ann Street", b"ANN-SKU"):
        assert mine in blob
    for theirs in (b"Bob B", b"2 Bob Road", b"BOB-SKU", b"bob@example.com"):
        assert theirs not in blob
    customers = json.loads(zf.read("json/legacy_shop_customers.json"))
    assert customers["system"] == "Legacy web shop" and customers["withheld"] == ["password_hash"]
    assert b"pbkdf2" not in blob  # a credential-looking column is named as withheld, never written
    assert "ANN-SKU" in zf.read("csv/legacy_shop_order_items.csv").decode()
    report = zf.read("report.html").decode()
    assert "Shop orders" in report and "delivery" in report


def test_the_approved_erasure_applies_the_declared_strategies_there_and_leaves_others_alone(
    shop, officer, django_capture_on_commit_callbacks
):
    data_request = create_verified_request(user=shop["a"], kind="erasure")
    run = services.preview_erasure(data_request=data_request)
    [plan] = [p for p in run.preview["datasets"] if p.get("system")]
    rows = {t["table"]: t["rows"] for t in plan["tables"]}
    assert rows == {"order_items": 1, "orders": 1, "customers": 1}
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_erasure(data_request=data_request, actor=officer)
    run.refresh_from_db()
    assert run.state == ErasureRun.State.COMPLETED, run.error
    customers = {r["id"]: r for r in select_all(shop["url"], "customers")}
    assert customers[10]["email"].startswith(PSEUDONYM_PREFIX) and customers[10]["full_name"] == MASK_TEXT
    assert customers[20]["email"] == "bob@example.com" and customers[20]["full_name"] == "Bob B"
    orders = {r["id"]: r["shipping_address"] for r in select_all(shop["url"], "orders")}
    assert orders == {20: MASK_TEXT, 10: "2 Bob Road"}
    skus = {r["id"]: r["sku"] for r in select_all(shop["url"], "order_items")}
    assert skus == {100: "ANN-SKU", 200: "BOB-SKU"}  # declared "keep": part of the kept invoice
    [shop_report] = [d for d in run.report["datasets"] if d["dataset"] == "system:legacy_shop"]
    assert shop_report["title"] == "Legacy web shop" and shop_report["counts"] == {"pseudonymise": 1, "mask": 2}
    assert any(k.get("field") == "sku" for k in run.report["kept"])


def test_a_system_that_does_not_answer_makes_export_and_erasure_wait_and_they_resume(
    shop, officer, client, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setenv("LEGACY_SHOP_DATABASE_URL", "mysql+pymysql://root@127.0.0.1:9/nowhere")  # nothing listens
    from systems.engine import dispose_engines

    dispose_engines()
    access = create_verified_request(user=shop["a"], kind="portability")
    export = services.start_export(data_request=access)
    with pytest.raises(services.external.SystemUnavailable):
        services.build_export(export=export)
    export.refresh_from_db()
    assert export.state == DataExport.State.PENDING
    assert export.error == "Waiting on Legacy web shop: connection refused"
    assert access.events.filter(verb="export_waiting", note=export.error).count() == 1

    erasure = create_verified_request(user=shop["a"], kind="erasure")
    run = services.preview_erasure(data_request=erasure)
    assert [p["unavailable"] for p in run.preview["datasets"] if p.get("system")] == ["connection refused"]
    services.approve_erasure(data_request=erasure, actor=officer, queue=False)
    for _attempt in range(2):  # the task's retries: one event for the wait, not one per try
        with pytest.raises(services.external.SystemUnavailable):
            services.execute_erasure(data_request=erasure)
    run.refresh_from_db()
    assert (run.state, run.error) == (ErasureRun.State.APPROVED, "Waiting on Legacy web shop: connection refused")
    assert erasure.events.filter(verb="erasure_waiting").count() == 1
    assert select_all(shop["url"], "customers")[0]["full_name"] == "Ann A"  # nothing half-done in the shop
    erasure.refresh_from_db()
    assert erasure.status != "completed"  # never completes without the shop
    client.force_login(officer)
    page = client.get(f"/admin/requests_app/datarequest/{erasure.pk}/change/").content.decode()
    assert "Waiting on Legacy web shop: connection refused" in page  # staff see why, on the request

    monkeypatch.setenv("LEGACY_SHOP_DATABASE_URL", shop["url"])  # the shop is back
    dispose_engines()
    with django_capture_on_commit_callbacks(execute=True):
        services.execute_erasure(data_request=erasure)
    run.refresh_from_db()
    assert run.state == ErasureRun.State.COMPLETED
    assert {r["id"]: r["full_name"] for r in select_all(shop["url"], "customers")} == {10: MASK_TEXT, 20: "Bob B"}
    services.build_export(export=export)
    export.refresh_from_db()
    assert export.state == DataExport.State.READY


def test_enforce_retention_applies_an_external_rule_with_dry_run_holds_and_report(shop):
    from django.core.management import call_command

    from registry.services import place_legal_hold
    from retention.models import RetentionRun

    old = NOW - dt.timedelta(days=3700)
    engine_url = shop["url"]

    engine = sa.create_engine(engine_url)
    with engine.begin() as conn:  # Bob's order is past the ten years; Ann's is recent
        conn.execute(sa.text("UPDATE orders SET created_at = :old WHERE id = 10"), {"old": old})
    engine.dispose()

    call_command("enforce_retention", dry_run=True, stdout=io.StringIO())
    dry = RetentionRun.objects.get(dry_run=True).items.get(policy_name="legacy_shop:shop-orders")
    assert (dry.matched, dry.deleted, dry.status) == (1, 0, "done")
    assert {r["id"] for r in select_all(engine_url, "orders")} == {10, 20}  # a dry run changes nothing

    place_legal_hold(reason="Tax audit of the shop", dataset="legacy_shop.orders")
    call_command("enforce_retention", stdout=io.StringIO())
    held = (
        RetentionRun.objects.filter(dry_run=False).latest("started_at").items.get(policy_name="legacy_shop:shop-orders")
    )
    assert held.status == "held" and {r["id"] for r in select_all(engine_url, "orders")} == {10, 20}

    from registry.models import LegalHold

    LegalHold.objects.update(released_at=timezone.now())
    call_command("enforce_retention", stdout=io.StringIO())
    item = (
        RetentionRun.objects.filter(dry_run=False).latest("started_at").items.get(policy_name="legacy_shop:shop-orders")
    )
    # Bob's expired order goes with the item that refers to it; Ann's recent one stays.
    assert (item.status, item.matched, item.deleted) == ("done", 1, 2)
    assert {r["id"] for r in select_all(engine_url, "orders")} == {20}
    assert {r["id"] for r in select_all(engine_url, "order_items")} == {100}


def test_staff_rectify_a_rectifiable_field_in_the_shop_and_nothing_else(shop, client, user_factory):
    from django.contrib.auth.models import Group

    rectifiable = SHOP_YAML.replace("erase: mask}", "erase: mask, rectifiable: true}", 1)
    load_systems(
        text=rectifiable.replace("[access, erasure, retention]", "[access, erasure, rectification, retention]")
    )
    agent = user_factory(is_staff=True)
    agent.groups.add(Group.objects.get(name="Support agent"))
    data_request = create_verified_request(user=shop["a"], kind="rectification")
    client.force_login(agent)
    url = f"/privacy/data/staff/requests/{data_request.pk}/rectify/"
    page = client.get(url).content.decode()
    assert "Legacy web shop: Shop customers" in page and "Ann A" in page and "Bob B" not in page
    client.post(
        url, {"dataset": "system:legacy_shop.customers", "pk": "10", "field": "full_name", "value": "Ann Andersen"}
    )
    client.post(url, {"dataset": "system:legacy_shop.customers", "pk": "20", "field": "full_name", "value": "Hijacked"})
    client.post(
        url, {"dataset": "system:legacy_shop.customers", "pk": "10", "field": "email", "value": "x@example.com"}
    )
    names = {r["id"]: (r["email"], r["full_name"]) for r in select_all(shop["url"], "customers")}
    assert names == {10: ("Ann@Example.com", "Ann Andersen"), 20: ("bob@example.com", "Bob B")}
    event = data_request.events.get(verb="fulfilment", new="Ann Andersen")
    assert (event.old, event.actor) == ("Ann A", agent)


def test_the_run_report_names_an_external_table_by_its_system_and_title(shop):
    from retention.selectors import dataset_title

    assert dataset_title("legacy_shop.orders") == "Legacy web shop: Shop orders"
