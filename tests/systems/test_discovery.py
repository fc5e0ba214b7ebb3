"""Discovery reads the schema, proposes a declaration, shows the difference; the check reports dropped columns."""

import pytest
import sqlalchemy as sa
import yaml
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from systems.checks import declared_columns_check
from systems.declarations import parse_systems_file
from systems.discovery import propose_declaration, suggest_category
from systems.services import accept_proposal, load_systems, proposal_text
from tests.systems.conftest import SHOP_YAML, make_shop_schema

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(shop_url, monkeypatch):
    monkeypatch.setenv("LEGACY_SHOP_DATABASE_URL", shop_url)
    make_shop_schema(shop_url)
    engine = sa.create_engine(shop_url)
    md = sa.MetaData()
    sa.Table(
        "newsletter",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subscriber_email", sa.String(254)),
        sa.Column("phone", sa.String(40)),
        sa.Column("signup_ip", sa.String(45)),
        sa.Column("birth_date", sa.Date),
        sa.Column("notes", sa.Text),
        sa.Column("list_code", sa.String(20)),
    )
    sa.Table("products", md, sa.Column("sku", sa.String(64), primary_key=True), sa.Column("price", sa.Integer))
    md.create_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE orders ADD COLUMN gift_message VARCHAR(200)")
    engine.dispose()
    (system,) = load_systems(text=SHOP_YAML)
    return system, shop_url


def test_proposal_flags_personal_columns_suggests_identity_and_keeps_the_declaration(shop):
    system, _url = shop
    proposal = propose_declaration(system=system)
    by_table = {d["table"]: d for d in proposal.datasets}
    assert proposal.unlinked == ["products"]
    news = by_table["newsletter"]
    assert news["identity"] == {"email": "subscriber_email"}
    categories = {f["name"]: f["category"] for f in news["fields"]}
    assert categories == {
        "subscriber_email": "user.contact.email",
        "phone": "user.contact.phone_number",
        "signup_ip": "user.device.ip_address",
        "birth_date": "user.demographic.date_of_birth",
        "notes": "user.content.private",
    }
    assert news["other_columns"] == ["list_code"]
    assert by_table["order_items"]["references"] == {"order_id": "orders.id"}
    assert by_table["customers"]["fields"][0] == {
        "name": "email",
        "category": "user.contact.email",
        "purpose": "order fulfilment",
        "legal_basis": "contract",
        "erase": "pseudonymise",
    }
    secret = next(f for f in by_table["customers"]["fields"] if f["name"] == "password_hash")
    assert secret["secret"] is True
    assert proposal.diff.lines() == [
        "new table newsletter",
        "new table products",
        "new column customers.created_at",
        "new column customers.password_hash",
        "new column orders.gift_message",
    ]
    parse_systems_file(proposal_text(system=system, datasets=proposal.datasets))  # a valid systems file


def test_accepting_then_rerunning_shows_only_what_changed_since(shop):
    system, url = shop
    accept_proposal(system=system, datasets=propose_declaration(system=system).datasets)
    assert set(system.datasets.values_list("table", flat=True)) == {"customers", "orders", "order_items", "newsletter"}
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE newsletter DROP COLUMN phone")
    engine.dispose()
    again = propose_declaration(system=system)
    assert again.diff.lines() == [
        "new table products",
        "dropped column newsletter.phone (declared, no longer in the database)",
    ]
    (error,) = [m for m in declared_columns_check() if m.id == "systems.E001"]
    assert "newsletter.phone" in error.msg and "no longer exists" in error.msg


def test_discover_command_prints_the_proposal_or_accepts_it(shop, capsys):
    system, _url = shop
    call_command("discover_system", "legacy_shop")
    out, err = capsys.readouterr()
    assert "new table newsletter" in err and "left out: products" in err
    assert yaml.safe_load(out)["systems"][0]["key"] == "legacy_shop"
    call_command("discover_system", "legacy_shop", "--accept")
    assert system.datasets.filter(table="newsletter").exists()


def test_the_check_warns_when_a_system_cannot_be_reached(monkeypatch):
    load_systems(text=SHOP_YAML)
    monkeypatch.delenv("LEGACY_SHOP_DATABASE_URL", raising=False)
    (warning,) = declared_columns_check()
    assert warning.id == "systems.W001" and "is not set" in warning.msg


@given(st.sampled_from(["id", "sku", "price", "quantity", "created_at", "status", "order_id", "total_cents"]))
def test_plain_columns_are_not_flagged(name):
    assert suggest_category(name, sa.Integer()) is None
    assert suggest_category(name, sa.String(20)) is None
