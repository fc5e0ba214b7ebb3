"""The demo's connected system: an SQLite file standing in for the organisation's legacy web shop.

``make run`` seeds it with orders of the demo people and declares it as the connected system ``demo_shop``
(connection in ``DEMO_SHOP_DATABASE_URL``), so that a newcomer's access or erasure request reaches a database
outside the portal with no server to install. Its own key and variable keep the README's example
(``legacy_shop``) free for an integrator's real database.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from django.conf import settings

from systems.services import load_systems

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

SYSTEM_YAML = """\
systems:
  - key: demo_shop
    name: Demo web shop
    owner: {name: Shop team, email: shop-team@example.com}
    connection: {url_env: DEMO_SHOP_DATABASE_URL}
    actions: [access, erasure, retention]
    datasets:
      - table: shop_customers
        title: Web shop customers
        identity: {email: email}
        fields:
          - {name: email, category: user.contact.email, purpose: order fulfilment, legal_basis: contract, erase: pseudonymise}
          - {name: full_name, category: user.name, purpose: order fulfilment, legal_basis: contract, erase: mask}
          - {name: phone, category: user.contact.phone_number, purpose: delivery, legal_basis: contract, erase: "null"}
      - table: shop_orders
        title: Web shop orders
        references: {customer_id: shop_customers.id}
        fields:
          - {name: shipping_address, category: user.contact.address, purpose: delivery, legal_basis: contract, erase: mask}
        retention:
          - {name: demo-shop-orders, period_days: 3650, date_field: placed_at, action: delete, legal_basis: "Bookkeeping law: orders kept 10 years."}
      - table: shop_order_lines
        title: Ordered products
        references: {order_id: shop_orders.id}
        fields:
          - {name: product, category: user.behavior.purchase_history, purpose: order fulfilment, legal_basis: contract, erase: keep, keep_reason: "part of the kept invoice"}
"""

PRODUCTS = ["Walking boots", "Rain jacket", "Thermos flask", "Trail map", "Head torch", "Wool socks"]
STREETS = ["Harbour Lane", "Mill Road", "Station Street", "Orchard Way", "Canal Quay"]


def _schema(md: sa.MetaData) -> dict[str, sa.Table]:
    return {
        "shop_customers": sa.Table(
            "shop_customers",
            md,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("email", sa.String(254), nullable=False, index=True),
            sa.Column("full_name", sa.String(200)),
            sa.Column("phone", sa.String(40)),
            sa.Column("created_at", sa.DateTime, nullable=False),
        ),
        "shop_orders": sa.Table(
            "shop_orders",
            md,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("customer_id", sa.Integer, sa.ForeignKey("shop_customers.id"), nullable=False, index=True),
            sa.Column("shipping_address", sa.String(255)),
            sa.Column("placed_at", sa.DateTime, nullable=False),
        ),
        "shop_order_lines": sa.Table(
            "shop_order_lines",
            md,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("order_id", sa.Integer, sa.ForeignKey("shop_orders.id"), nullable=False, index=True),
            sa.Column("product", sa.String(100)),
            sa.Column("quantity", sa.Integer, nullable=False),
        ),
    }


def seed_shop(*, people: list[AbstractBaseUser], url: str | None = None) -> int:
    """Create the shop database (if new) with orders of ``people``, and declare it; returns the orders made."""
    url = url or settings.DEMO_SHOP_DATABASE_URL
    engine = sa.create_engine(url)
    md = sa.MetaData()
    tables = _schema(md)
    md.create_all(engine)
    rng = random.Random(2026)
    now = datetime.now(UTC).replace(tzinfo=None)  # the shop keeps naive UTC times, as many legacy databases do
    orders = 0
    with engine.begin() as conn:
        known = set(conn.execute(sa.select(tables["shop_customers"].c.email)).scalars())
        for person in people:
            if not person.email or person.email in known:
                continue
            customer = conn.execute(
                sa.insert(tables["shop_customers"]).values(
                    email=person.email,
                    full_name=person.get_full_name() or person.get_username(),
                    phone=f"+32 470 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
                    created_at=now - timedelta(days=rng.randint(30, 900)),
                )
            ).inserted_primary_key[0]
            for _ in range(rng.randint(1, 3)):
                order = conn.execute(
                    sa.insert(tables["shop_orders"]).values(
                        customer_id=customer,
                        shipping_address=f"{rng.randint(1, 200)} {rng.choice(STREETS)}, Brussels",
                        placed_at=now - timedelta(days=rng.randint(1, 800)),
                    )
                ).inserted_primary_key[0]
                conn.execute(
                    sa.insert(tables["shop_order_lines"]),
                    [
                        {"order_id": order, "product": rng.choice(PRODUCTS), "quantity": rng.randint(1, 3)}
                        for _ in range(rng.randint(1, 3))
                    ],
                )
                orders += 1
    engine.dispose()
    load_systems(text=SYSTEM_YAML)
    return orders
