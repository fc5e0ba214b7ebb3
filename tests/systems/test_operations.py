"""Fulfilment through a connection, on SQLite, MariaDB and PostgreSQL: rows found through references, erased as declared."""

import datetime as dt

import pytest
import sqlalchemy as sa

from systems.operations import (
    ErasureCheckpoint,
    Identities,
    apply_erasure,
    enforce_retention_rule,
    iter_person_rows,
    preview_erasure,
    rectify_row,
)
from systems.services import load_systems
from tests.systems.conftest import SHOP_YAML, insert, make_shop_schema, select_all

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 6, 1, 12, 0)
ANN = Identities.of(emails=["Ann@Example.com"])
BOB = Identities.of(emails=["bob@example.com"])


@pytest.fixture
def shop(shop_url, monkeypatch):
    """The README's shop with two people whose ids cross over, so that following a wrong column leaks."""
    monkeypatch.setenv("LEGACY_SHOP_DATABASE_URL", shop_url)
    t = make_shop_schema(shop_url)
    insert(
        shop_url,
        t["customers"],
        [
            {
                "id": 10,
                "email": "ann@example.com",
                "full_name": "Ann A",
                "password_hash": "pbkdf2$x",
                "created_at": NOW,
            },
            {"id": 20, "email": "bob@example.com", "full_name": "Bob B", "password_hash": None, "created_at": NOW},
        ],
    )
    insert(
        shop_url,
        t["orders"],
        [
            {"id": 20, "customer_id": 10, "shipping_address": "1 Ann Street", "created_at": NOW},
            {"id": 10, "customer_id": 20, "shipping_address": "2 Bob Road", "created_at": NOW},
        ],
    )
    insert(
        shop_url,
        t["order_items"],
        [
            {"id": 100, "order_id": 20, "sku": "ANN-SKU"},
            {"id": 101, "order_id": 20, "sku": "ANN-SKU-2"},
            {"id": 200, "order_id": 10, "sku": "BOB-SKU"},
        ],
    )
    (system,) = load_systems(text=SHOP_YAML)
    return system, shop_url


def _export(system, who, batch_size=500):
    return {
        d.dataset.table: (d.columns, d.withheld, list(d.rows))
        for d in iter_person_rows(system=system, who=who, batch_size=batch_size)
    }


def test_access_follows_three_levels_of_references_and_nothing_of_another_person(shop):
    system, _url = shop
    export = _export(system, ANN, batch_size=1)  # one row per fetch: batching through the cursor is exercised
    assert [r["full_name"] for r in export["customers"][2]] == ["Ann A"]
    assert [r["shipping_address"] for r in export["orders"][2]] == ["1 Ann Street"]
    assert [r["sku"] for r in export["order_items"][2]] == ["ANN-SKU", "ANN-SKU-2"]
    columns, withheld, _ = export["customers"]
    assert "password_hash" in withheld and "password_hash" not in columns
    assert "Bob" not in repr(export) and "BOB" not in repr(export)


def test_a_person_with_no_rows_and_no_identities_gets_empty_datasets(shop):
    system, _url = shop
    for who in (Identities.of(emails=["nobody@example.com"]), Identities.of()):
        assert {t: rows for t, (_c, _w, rows) in _export(system, who).items()} == {
            "customers": [],
            "orders": [],
            "order_items": [],
        }


def test_preview_counts_rows_per_table_and_strategy(shop):
    system, _url = shop
    plans = {p.table: p for p in preview_erasure(system=system, who=ANN)}
    assert list(plans) == ["order_items", "orders", "customers"]  # children first
    assert plans["customers"].counts == {"pseudonymise": 1, "mask": 1}
    assert plans["orders"].counts == {"mask": 1} and plans["order_items"].counts == {"keep": 2}
    assert plans["order_items"].rows == 2 and not any(p.problems for p in plans.values())


def test_erasure_applies_the_strategies_and_leaves_the_other_person_untouched(shop):
    system, url = shop
    before = {
        t: [r for r in select_all(url, t) if r["id"] in (20, 10, 200)] for t in ("customers", "orders", "order_items")
    }
    checkpoint = apply_erasure(system=system, who=ANN)
    assert checkpoint.done
    ann = next(r for r in select_all(url, "customers") if r["id"] == 10)
    assert ann["email"].startswith("psn-") and ann["full_name"] == "[erased]"
    assert next(r for r in select_all(url, "orders") if r["id"] == 20)["shipping_address"] == "[erased]"
    assert [r["sku"] for r in select_all(url, "order_items") if r["order_id"] == 20] == ["ANN-SKU", "ANN-SKU-2"]
    assert checkpoint.tables["customers"].counts == {"pseudonymise": 1, "mask": 1}
    bob_ids = {"customers": 20, "orders": 10, "order_items": 200}
    for table, rows in before.items():
        assert [r for r in select_all(url, table) if r["id"] == bob_ids[table]] == [
            r for r in rows if r["id"] == bob_ids[table]
        ]
    again = apply_erasure(system=system, who=ANN)  # erasing again is harmless: the pseudonym stays
    assert next(r for r in select_all(url, "customers") if r["id"] == 10)["email"] == ann["email"]
    assert again.done


def test_a_hold_on_one_table_skips_it_and_the_rest_is_erased(shop):
    system, url = shop
    checkpoint = apply_erasure(system=system, who=ANN, held={("legacy_shop", "orders"), ("other", "customers")})
    assert checkpoint.tables["orders"].held == "held" and checkpoint.tables["orders"].counts == {}
    assert next(r for r in select_all(url, "orders") if r["id"] == 20)["shipping_address"] == "1 Ann Street"
    assert next(r for r in select_all(url, "customers") if r["id"] == 10)["full_name"] == "[erased]"
    plans = {p.table: p for p in preview_erasure(system=system, who=ANN, held={("legacy_shop", "orders")})}
    assert plans["orders"].held and not plans["customers"].held


def test_a_hold_on_a_child_also_holds_the_rows_it_refers_to_when_they_would_be_deleted(shop):
    system, url = shop
    system.datasets.get(table="orders").fields.update(strategy="delete")
    checkpoint = apply_erasure(system=system, who=ANN, held={("legacy_shop", "order_items")})
    assert checkpoint.tables["orders"].held == "held: order_items refers to it"
    assert [r["id"] for r in select_all(url, "orders")] == [10, 20]


def test_a_crash_mid_erasure_resumes_from_the_checkpoint(shop):
    system, url = shop
    system.datasets.get(table="order_items").fields.update(strategy="delete")
    saved, batches = {}, []

    def crash_after_two(checkpoint):
        saved.update(checkpoint.to_dict())  # what the caller would persist
        batches.append(1)
        if len(batches) == 2:
            raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError):
        apply_erasure(system=system, who=ANN, on_batch=crash_after_two, batch_size=1)
    # Deleted rows stop matching, so a delete needs no position to resume from: it takes what still matches.
    assert saved["tables"]["order_items"] == {"done": False, "last_pk": None, "counts": {"delete": 2}, "held": ""}
    assert [r["id"] for r in select_all(url, "order_items")] == [200]
    resumed = apply_erasure(system=system, who=ANN, checkpoint=ErasureCheckpoint.from_dict(saved), batch_size=1)
    assert resumed.done and resumed.tables["order_items"].counts == {"delete": 2}
    assert resumed.tables["orders"].counts == {"mask": 1} and resumed.tables["customers"].counts == {
        "pseudonymise": 1,
        "mask": 1,
    }
    assert next(r for r in select_all(url, "customers") if r["id"] == 10)["full_name"] == "[erased]"
    assert next(r for r in select_all(url, "customers") if r["id"] == 20)["full_name"] == "Bob B"


def test_a_batch_of_rows_is_masked_in_one_statement_not_one_per_row(shop):
    # Row by row, each masked row cost a round trip to the database (psycopg2 sends executemany one by one).
    from systems.engine import engine_for

    system, url = shop
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO orders (id, customer_id, shipping_address, created_at) VALUES (21, 10, '3 Ann Lane', :t)"
            ),
            {"t": NOW},
        )
    engine.dispose()
    updates = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("UPDATE ORDERS"):
            updates.append(executemany)

    external = engine_for(system)
    sa.event.listen(external, "before_cursor_execute", count)
    try:
        checkpoint = apply_erasure(system=system, who=ANN)
    finally:
        sa.event.remove(external, "before_cursor_execute", count)
    assert checkpoint.tables["orders"].counts == {"mask": 2}
    assert updates == [False]  # one statement, with no list of parameters per row
    assert {r["id"]: r["shipping_address"] for r in select_all(url, "orders")} == {
        10: "2 Bob Road",
        20: "[erased]",
        21: "[erased]",
    }


def test_deleting_a_persons_rows_reads_their_keys_once_however_many_batches(shop):
    # Selecting each batch anew walked the reference chain past every row already deleted: quadratic.
    from systems.engine import engine_for

    system, url = shop
    if url.startswith("sqlite"):
        pytest.skip("SQLite selects batch by batch: an open reader would block the deletes' commits")
    system.datasets.get(table="order_items").fields.update(strategy="delete")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO order_items (id, order_id, sku) VALUES (102, 20, 'A3'), (103, 20, 'A4')"))
    engine.dispose()
    reads = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and "order_items" in statement.split("WHERE")[0]:
            reads.append(statement)

    external = engine_for(system)
    sa.event.listen(external, "before_cursor_execute", count)
    try:
        checkpoint = apply_erasure(system=system, who=ANN, batch_size=1)
    finally:
        sa.event.remove(external, "before_cursor_execute", count)
    assert checkpoint.tables["order_items"].counts == {"delete": 4}
    assert len(reads) == 2, reads  # the keys, streamed; then one look for rows that arrived meanwhile
    assert [r["id"] for r in select_all(url, "order_items")] == [200]


def test_rectification_changes_only_rectifiable_columns_of_the_persons_rows(shop):
    system, url = shop
    system.datasets.get(table="orders").fields.update(rectifiable=True)
    diff = rectify_row(
        system=system, table="orders", key={"id": 20}, changes={"shipping_address": "3 New Street"}, who=ANN
    )
    assert diff == {"shipping_address": ("1 Ann Street", "3 New Street")}
    with pytest.raises(ValueError, match="not the person's"):
        rectify_row(system=system, table="orders", key={"id": 10}, changes={"shipping_address": "x"}, who=ANN)
    with pytest.raises(ValueError, match="not correctable: full_name"):
        rectify_row(system=system, table="customers", key={"id": 10}, changes={"full_name": "x"}, who=ANN)
    assert next(r for r in select_all(url, "orders") if r["id"] == 10)["shipping_address"] == "2 Bob Road"


def test_retention_deletes_expired_rows_in_batches_after_the_rows_that_refer_to_them(shop):
    system, url = shop
    old = NOW - dt.timedelta(days=3651)
    engine = sa.create_engine(url)
    orders = sa.Table("orders", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        conn.execute(sa.update(orders).where(orders.c.id == 20).values(created_at=old))
    engine.dispose()
    rule = system.datasets.get(table="orders").retention_rules.get()
    dry = enforce_retention_rule(system=system, rule=rule, now=NOW.replace(tzinfo=dt.UTC), dry_run=True)
    assert (dry.matched, dry.changed) == (1, 0) and len(select_all(url, "orders")) == 2
    held = enforce_retention_rule(system=system, rule=rule, now=NOW, held={("legacy_shop", "orders")})
    assert held.held and len(select_all(url, "orders")) == 2
    done = enforce_retention_rule(system=system, rule=rule, now=NOW, batch_size=1)
    assert (done.matched, done.changed, done.cascaded) == (1, 1, {"order_items": 2})
    assert [r["id"] for r in select_all(url, "orders")] == [10]
    assert [r["id"] for r in select_all(url, "order_items")] == [200]


def test_retention_masks_fields_when_the_rule_says_so(shop):
    system, url = shop
    rule = system.datasets.get(table="orders").retention_rules.get()
    rule.action, rule.fields, rule.period_days = "mask", ["shipping_address"], 1
    outcome = enforce_retention_rule(system=system, rule=rule, now=NOW + dt.timedelta(days=2))
    assert outcome.changed == 2
    assert {r["shipping_address"] for r in select_all(url, "orders")} == {"[erased]"}


def test_a_file_loaded_while_running_is_used_by_the_next_call(shop):
    system, _url = shop
    assert "full_name" in _export(system, ANN)["customers"][0]
    load_systems(
        text=SHOP_YAML.replace(
            "legal_basis: contract, erase: mask}", "legal_basis: contract, erase: mask, secret: true}", 1
        )
    )
    columns, withheld, rows = _export(system, ANN)["customers"]  # the same system object: nothing cached on it
    assert "full_name" in withheld and "full_name" not in rows[0]


def test_dataset_information_says_why_each_external_dataset_is_held(shop):
    from systems.selectors import dataset_information, get_system

    system = get_system(key="legacy_shop")
    info = dataset_information(system=system, dataset=system.datasets.get(table="orders"))
    assert info["label"] == "legacy_shop.orders" and info["title"] == "Shop orders"
    assert info["categories"] == ["Postal address"] and info["purposes"] == ["delivery"]
    assert info["legal_bases"] == ["Performance of a contract (Art. 6(1)(b))"]
    assert info["retention"] == ["10 years: Tax law: invoices kept 10 years."]


def test_retention_leaves_the_rows_of_a_person_on_hold(shop):
    system, url = shop
    rule = system.datasets.get(table="orders").retention_rules.get()
    rule.action, rule.fields, rule.period_days = "mask", ["shipping_address"], 1
    outcome = enforce_retention_rule(system=system, rule=rule, now=NOW + dt.timedelta(days=2), held_people=BOB)
    assert (outcome.matched, outcome.changed, outcome.skipped_hold) == (1, 1, 1)
    assert {r["id"]: r["shipping_address"] for r in select_all(url, "orders")} == {10: "2 Bob Road", 20: "[erased]"}


def test_an_export_streams_in_bounded_memory(tmp_path, monkeypatch):
    import tracemalloc

    url = f"sqlite:///{tmp_path / 'big.sqlite3'}"
    monkeypatch.setenv("LEGACY_SHOP_DATABASE_URL", url)
    t = make_shop_schema(url)
    insert(url, t["customers"], [{"id": 1, "email": "ann@example.com", "full_name": "Ann", "created_at": NOW}])
    insert(url, t["orders"], [{"id": 1, "customer_id": 1, "shipping_address": "x", "created_at": NOW}])
    insert(url, t["order_items"], [{"id": i, "order_id": 1, "sku": f"SKU-{i:06d}" * 4} for i in range(1, 30_001)])
    (system,) = load_systems(text=SHOP_YAML)

    def peak(limit):
        tracemalloc.start()
        n = 0
        for dataset in iter_person_rows(system=system, who=ANN, batch_size=500):
            for _row in dataset.rows:
                n += 1
                if n >= limit:
                    break
        result = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return result

    small, large = peak(3_000), peak(30_000)
    assert large < small + 2_000_000, (small, large)  # ten times the rows, not ten times the memory


def test_an_export_reads_each_table_in_one_query_however_many_batches(shop):
    # Paging by key re-ran the whole reference chain for every page: time grew with the square of the rows.
    from systems.engine import engine_for

    system, _url = shop
    statements = []
    reading = False

    def count(conn, cursor, statement, *args):
        if reading:
            statements.append(statement)

    engine = engine_for(system)
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        rows = {}
        for d in iter_person_rows(system=system, who=ANN, batch_size=1):
            reading = True
            rows[d.dataset.table] = [r["id"] for r in d.rows]
            reading = False
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert rows == {"customers": [10], "orders": [20], "order_items": [100, 101]}  # in key order
    assert len(statements) == 3, statements


EXTRA_TABLES = """\
      - table: order_lines
        title: Order lines
        references: {order_id: orders.id}
        fields:
          - {name: note, category: user.content.private, purpose: delivery, legal_basis: contract, erase: mask}
      - table: newsletter_log
        title: Newsletter log
        identity: {email: address}
        fields:
          - {name: address, category: user.contact.email, purpose: marketing, legal_basis: consent, erase: delete}
"""


@pytest.fixture
def odd_keys(shop):
    """A table keyed by two columns and one with no key at all."""
    system, url = shop
    md = sa.MetaData()
    lines = sa.Table(
        "order_lines",
        md,
        sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("line_no", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("note", sa.String(100)),
    )
    log = sa.Table("newsletter_log", md, sa.Column("address", sa.String(254)), sa.Column("sent", sa.Integer))
    engine = sa.create_engine(url)
    md.create_all(engine)
    engine.dispose()
    insert(url, lines, [{"order_id": o, "line_no": n, "note": f"{o}-{n}"} for o in (10, 20) for n in (1, 2, 3)])
    insert(url, log, [{"address": a, "sent": n} for a in ("ann@example.com", "bob@example.com") for n in (1, 2)])
    (system,) = load_systems(text=SHOP_YAML + EXTRA_TABLES)
    return system, url


def test_tables_keyed_by_two_columns_or_none_are_read_and_erased(odd_keys):
    system, url = odd_keys
    export = _export(system, ANN, batch_size=2)
    assert [r["note"] for r in export["order_lines"][2]] == ["20-1", "20-2", "20-3"]
    assert sorted(r["sent"] for r in export["newsletter_log"][2]) == [1, 2]
    problems = {p.table: p.problems for p in preview_erasure(system=system, who=ANN)}
    assert problems["newsletter_log"] == ["no primary key: erased in one statement, without resume"]
    checkpoint = apply_erasure(system=system, who=ANN, batch_size=2)
    assert checkpoint.tables["order_lines"].counts == {"mask": 3} and checkpoint.tables["order_lines"].last_pk == [
        20,
        3,
    ]
    assert checkpoint.tables["newsletter_log"].counts == {"delete": 2}
    assert {r["note"] for r in select_all(url, "order_lines")} == {"10-1", "10-2", "10-3", "[erased]"}
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        left = conn.exec_driver_sql("SELECT address FROM newsletter_log").scalars().all()
    engine.dispose()
    assert left == ["bob@example.com", "bob@example.com"]


def test_two_people_who_share_nothing_see_only_their_own_rows(shop):
    system, url = shop
    t = {
        name: sa.Table(name, sa.MetaData(), autoload_with=sa.create_engine(url))
        for name in ("customers", "orders", "order_items")
    }
    insert(url, t["customers"], [{"id": 30, "email": "cara@example.com", "full_name": "Cara C", "created_at": NOW}])
    insert(url, t["orders"], [{"id": 30, "customer_id": 30, "shipping_address": "3 Cara Lane", "created_at": NOW}])
    insert(url, t["order_items"], [{"id": 300, "order_id": 30, "sku": "CARA-SKU"}])
    cara = Identities.of(emails=["cara@example.com"])
    ann_rows, cara_rows = (
        {table: rows for table, (_c, _w, rows) in _export(system, who).items()} for who in (ANN, cara)
    )
    assert [r["sku"] for r in cara_rows["order_items"]] == ["CARA-SKU"]
    assert not {r["id"] for r in ann_rows["order_items"]} & {r["id"] for r in cara_rows["order_items"]}
    apply_erasure(system=system, who=cara)
    assert {table: rows for table, (_c, _w, rows) in _export(system, ANN).items()} == ann_rows
    assert next(r for r in select_all(url, "customers") if r["id"] == 30)["full_name"] == "[erased]"


def test_a_table_without_a_key_is_masked_and_pseudonymised_whole(odd_keys):
    system, url = odd_keys
    log = system.datasets.get(table="newsletter_log")
    log.fields.update(strategy="pseudonymise")
    log.fields.create(
        name="topic", category="user.privacy_preferences", purpose="marketing", legal_basis="consent", strategy="mask"
    )
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE newsletter_log ADD COLUMN topic VARCHAR(40)")
        conn.exec_driver_sql("UPDATE newsletter_log SET topic = 'shoes' WHERE sent = 1")
    checkpoint = apply_erasure(system=system, who=ANN)
    assert checkpoint.tables["newsletter_log"].counts == {"pseudonymise": 2, "mask": 2}
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT address, topic, sent FROM newsletter_log ORDER BY address, sent").all()
    engine.dispose()
    ann = [r for r in rows if r[0].startswith("psn-")]
    assert [(r[1], r[2]) for r in ann] == [("[erased]", 1), (None, 2)]
    assert [(r[0], r[1]) for r in rows if not r[0].startswith("psn-")] == [
        ("bob@example.com", "shoes"),
        ("bob@example.com", None),
    ]
