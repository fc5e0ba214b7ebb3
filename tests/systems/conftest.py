"""Real databases for connected-system tests: an SQLite file, a MariaDB and a PostgreSQL database of their own.

Each test that asks for ``shop_url`` gets a fresh, empty database on one backend (created here, dropped
after), and is skipped with the reason when that server is not running.
"""

import os
import uuid

import pytest
import sqlalchemy as sa

from systems.engine import dispose_engines

MARIADB = os.environ.get("TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306")
POSTGRES = os.environ.get("TEST_POSTGRES_SYSTEMS_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432")
BACKENDS = ["sqlite", "mariadb", "postgresql"]


def _server_database(base: str, name: str, *, create: str, drop: str):
    admin = sa.create_engine(
        base + ("/postgres" if base.startswith("postgresql") else "/"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(create.format(name=name))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.skip(f"no database server at {base.split('@')[-1]}: {str(exc.orig).splitlines()[0]}")
    return admin, drop.format(name=name)


@pytest.fixture(params=BACKENDS)
def shop_url(request, tmp_path):
    """A fresh empty database on each backend, as an SQLAlchemy URL."""
    name = f"test_systems_{uuid.uuid4().hex[:10]}"
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shop.sqlite3'}"
        dispose_engines()
        return
    if request.param == "mariadb":
        admin, drop = _server_database(
            MARIADB, name, create="CREATE DATABASE {name}", drop="DROP DATABASE IF EXISTS {name}"
        )
        url = f"{MARIADB}/{name}"
    else:
        admin, drop = _server_database(
            POSTGRES, name, create="CREATE DATABASE {name}", drop="DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )
        url = f"{POSTGRES}/{name}"
    yield url
    dispose_engines()
    with admin.connect() as conn:
        conn.exec_driver_sql(drop)
    admin.dispose()


SHOP_YAML = """\
systems:
  - key: legacy_shop
    name: Legacy web shop
    owner: {name: Shop team, email: shop-team@example.com}
    connection: {url_env: LEGACY_SHOP_DATABASE_URL}
    actions: [access, erasure, retention]
    datasets:
      - table: customers
        title: Shop customers
        identity: {email: email}
        fields:
          - {name: email, category: user.contact.email, purpose: order fulfilment, legal_basis: contract, erase: pseudonymise}
          - {name: full_name, category: user.name, purpose: order fulfilment, legal_basis: contract, erase: mask}
      - table: orders
        title: Shop orders
        references: {customer_id: customers.id}
        fields:
          - {name: shipping_address, category: user.contact.address, purpose: delivery, legal_basis: contract, erase: mask}
        retention:
          - {name: shop-orders, period_days: 3650, date_field: created_at, action: delete, legal_basis: "Tax law: invoices kept 10 years."}
      - table: order_items
        title: Ordered items
        references: {order_id: orders.id}
        fields:
          - {name: sku, category: user.behavior.purchase_history, purpose: order fulfilment, legal_basis: contract, erase: keep, keep_reason: "part of the kept invoice"}
"""


def make_shop_schema(url: str) -> dict[str, sa.Table]:
    """customers <- orders <- order_items, with foreign keys, in the database at ``url``."""
    md = sa.MetaData()
    tables = {
        "customers": sa.Table(
            "customers",
            md,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("email", sa.String(254), nullable=False),
            sa.Column("full_name", sa.String(200)),
            sa.Column("password_hash", sa.String(128)),
            sa.Column("created_at", sa.DateTime, nullable=False),
        ),
        "orders": sa.Table(
            "orders",
            md,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False),
            sa.Column("shipping_address", sa.String(255)),
            sa.Column("created_at", sa.DateTime, nullable=False),
        ),
        "order_items": sa.Table(
            "order_items",
            md,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("order_id", sa.Integer, sa.ForeignKey("orders.id"), nullable=False),
            sa.Column("sku", sa.String(64)),
        ),
    }
    engine = sa.create_engine(url)
    md.create_all(engine)
    engine.dispose()
    return tables


def insert(url: str, table: sa.Table, rows: list[dict]) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.insert(table), rows)
    engine.dispose()


def select_all(url: str, table: str) -> list[dict]:
    engine = sa.create_engine(url)
    t = sa.Table(table, sa.MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]
    engine.dispose()
    return rows


KEY = "tests-webhook-key-0123456789abcdef"  # the HTTP systems' signing key in these tests


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def receiver(monkeypatch):
    """The README's reference receiver (scripts/webhook_receiver.py), a real HTTP server on a free port, keyed
    with ``KEY`` under HELPDESK_WEBHOOK_SECRET: it records each call and answers from ``answers``."""
    import sys
    from pathlib import Path

    from django.conf import settings

    sys.path.insert(0, str(Path(settings.BASE_DIR) / "scripts"))
    import webhook_receiver

    monkeypatch.setenv("HELPDESK_WEBHOOK_SECRET", KEY)
    calls, answers, port = [], {}, free_port()
    server = webhook_receiver.serve(port, KEY.encode(), answers, calls)
    yield {"port": port, "calls": calls, "answers": answers}
    server.shutdown()
