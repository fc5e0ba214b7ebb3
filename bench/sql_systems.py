"""Benchmark: access export and erasure of one person with many rows in a connected PostgreSQL database.

The script creates its own shop database (``customers <- orders <- order_items``) on the PostgreSQL server,
declares it as a connected system with ``load_systems`` and drops it at the end. For each size it gives one
person N rows there (1 customer, N/10 orders, the rest order items), next to 101,000 rows of 1,000 other
customers, and runs the real paths: ``fulfilment.services.build_export`` (external datasets streamed by
``systems.operations.iter_person_rows``) and ``preview_erasure`` / ``approve_erasure`` / ``execute_erasure``
(``systems.operations.apply_erasure``: order items deleted, orders masked, the customer pseudonymised). The
baseline is the same volume in-process, measured in the same process, run for run: the demo datasets of
``bench/export_erasure.py`` (the connected system is not declared while the baseline runs).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pp_bench_sql_systems VAR_DIR=/tmp/bench-sql-var \\
        .venv/bin/python bench/sql_systems.py [--sizes 10000 100000] [--repeat 2] [--heap]

Time is wall clock of the service call. Memory is the process's peak resident set during the phase (the
kernel's high-water mark, reset before each phase through ``/proc/self/clear_refs``), so it counts the
driver's C buffers too; the figure is the rise over the resident set at the phase's start. ``--heap`` adds
one run per size and side under ``tracemalloc`` for the peak Python heap (not timed: tracing slows it).
"""

import argparse
import ctypes
import gc
import os
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacyportal.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pp_bench_sql_systems")
# DEBUG stays off (Django would keep every query in memory): throwaway keys for a scratch database.
os.environ.setdefault("SECRET_KEY", "bench-" + uuid.uuid4().hex * 2)
os.environ.setdefault("PSEUDONYMISATION_KEY", "bench-" + uuid.uuid4().hex * 2)
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="bench-sql-var-"))
SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432")
URL_ENV = "BENCH_SHOP_DATABASE_URL"

import sqlalchemy as sa  # noqa: E402


def _ensure_portal_database() -> None:
    """Create the portal's own PostgreSQL database when it is missing (it is migrated below)."""
    url = sa.make_url(os.environ["DATABASE_URL"].replace("postgres://", "postgresql+psycopg2://", 1))
    if url.get_backend_name() != "postgresql":
        return
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}).first():
            conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    admin.dispose()


_ensure_portal_database()

import django  # noqa: E402

django.setup()

import export_erasure as in_process  # noqa: E402  (bench/export_erasure.py: the in-process setup)
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from fulfilment import services  # noqa: E402
from fulfilment.models import ErasureRun  # noqa: E402
from requests_app.services import create_verified_request  # noqa: E402
from systems.engine import dispose_engines  # noqa: E402
from systems.models import ExternalSystem  # noqa: E402
from systems.services import load_systems  # noqa: E402

SYSTEM_YAML = f"""\
systems:
  - key: bench_shop
    name: Bench shop
    owner: {{name: Shop team, email: shop-team@example.com}}
    connection: {{url_env: {URL_ENV}}}
    actions: [access, erasure]
    datasets:
      - table: customers
        title: Shop customers
        identity: {{email: email}}
        fields:
          - {{name: email, category: user.contact.email, purpose: order fulfilment, legal_basis: contract, erase: pseudonymise}}
          - {{name: full_name, category: user.name, purpose: order fulfilment, legal_basis: contract, erase: mask}}
      - table: orders
        title: Shop orders
        references: {{customer_id: customers.id}}
        fields:
          - {{name: shipping_address, category: user.contact.address, purpose: delivery, legal_basis: contract, erase: mask}}
      - table: order_items
        title: Ordered items
        references: {{order_id: orders.id}}
        fields:
          - {{name: sku, category: user.behavior.purchase_history, purpose: order fulfilment, legal_basis: contract, erase: delete}}
"""

SCHEMA = """
CREATE TABLE customers (id bigint PRIMARY KEY, email varchar(254) NOT NULL, full_name varchar(200),
    password_hash varchar(128), created_at timestamp NOT NULL);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id),
    shipping_address varchar(255), total_cents integer NOT NULL, created_at timestamp NOT NULL);
CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id),
    sku varchar(64), quantity integer NOT NULL, price_cents integer NOT NULL);
-- PostgreSQL does not index foreign keys by itself; a shop database that joins on them has these.
CREATE INDEX orders_customer_id ON orders (customer_id);
CREATE INDEX order_items_order_id ON order_items (order_id);
CREATE INDEX customers_email_lower ON customers (lower(email));
"""


class Shop:
    """The external database: created on the server, filled with generate_series, dropped at the end."""

    def __init__(self):
        self.name = f"pp_bench_systems_{uuid.uuid4().hex[:10]}"
        self.admin = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {self.name}")
        self.url = f"{SERVER}/{self.name}"
        self.engine = sa.create_engine(self.url)
        with self.engine.begin() as conn:
            conn.exec_driver_sql(SCHEMA)
        self.next_customer = self.next_order = self.next_item = 1
        # Other people's rows, so that every condition has to pick the person out: 1,000 customers with
        # 10 orders of 9 items each (101,000 rows).
        for i in range(1000):
            self.add_person(f"other{i}@example.com", orders=10, items=90)
        with self.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")

    def add_person(self, email: str, *, orders: int, items: int) -> int:
        c, o, it = self.next_customer, self.next_order, self.next_item
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO customers VALUES (:c, :email, 'Bench Person', 'pbkdf2$x', now())"
                    "; INSERT INTO orders SELECT :o + g, :c, g || ' Bench Street, Springfield', 1999, now()"
                    "  FROM generate_series(0, :orders - 1) g"
                    "; INSERT INTO order_items SELECT :it + g, :o + g % :orders, 'SKU-' || g, 1 + g % 3, 499"
                    "  FROM generate_series(0, :items - 1) g"
                ),
                {"c": c, "email": email, "o": o, "orders": orders, "it": it, "items": items},
            )
        self.next_customer, self.next_order, self.next_item = c + 1, o + orders, it + items
        return c

    def left_of(self, customer: int) -> tuple:
        """(customer rows still bearing the person's e-mail, orders still unmasked, order items left)."""
        with self.engine.connect() as conn:
            return tuple(
                conn.execute(
                    sa.text(
                        "SELECT (SELECT count(*) FROM customers WHERE id = :c AND email LIKE 'bench.sql.%'),"
                        " (SELECT count(*) FROM orders WHERE customer_id = :c AND shipping_address LIKE '%Street%'),"
                        " (SELECT count(*) FROM order_items i JOIN orders o ON o.id = i.order_id"
                        "  WHERE o.customer_id = :c)"
                    ),
                    {"c": customer},
                ).one()
            )

    def drop(self) -> None:
        self.engine.dispose()
        dispose_engines()
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        self.admin.dispose()


_libc = ctypes.CDLL("libc.so.6")


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def measure(fn, *, heap: bool):
    """(result, seconds, peak RSS rise in MB, peak RSS in MB, peak Python heap in MB or None)."""
    gc.collect()
    _libc.malloc_trim(0)  # hand freed heap back first, so that the phase's own rise shows
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak resident set (VmHWM) to the current one
    start_kb = _status_kb("VmRSS")
    if heap:
        tracemalloc.start()
    t0 = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - t0
    peak_heap = None
    if heap:
        peak_heap = tracemalloc.get_traced_memory()[1] / 1024 / 1024
        tracemalloc.stop()
    hwm_kb = _status_kb("VmHWM")
    return result, elapsed, (hwm_kb - start_kb) / 1024, hwm_kb / 1024, peak_heap


def _person(email: str):
    User = get_user_model()
    tag = uuid.uuid4().hex[:8]
    return User.objects.create_user(
        username=f"bench-sql-{tag}", email=email, password="x", first_name="Bench", last_name="Person"
    )


def export_and_erase(user, officer, *, heap: bool) -> dict:
    access = create_verified_request(user=user, kind="access")
    export, export_s, export_rise, export_peak, export_heap = measure(
        lambda: services.build_export(export=services.start_export(data_request=access)), heap=heap
    )
    erasure = create_verified_request(user=user, kind="erasure")
    services.preview_erasure(data_request=erasure)
    services.approve_erasure(data_request=erasure, actor=officer, queue=False)
    run, erase_s, erase_rise, erase_peak, erase_heap = measure(
        lambda: services.execute_erasure(data_request=erasure), heap=heap
    )
    assert run.state == ErasureRun.State.COMPLETED, run.state
    return {
        "rows": export.rows_done,
        "export_s": export_s,
        "export_rise": export_rise,
        "export_peak": export_peak,
        "export_heap": export_heap,
        "zip_mb": export.size_bytes / 1e6,
        "erase_s": erase_s,
        "erase_rise": erase_rise,
        "erase_peak": erase_peak,
        "erase_heap": erase_heap,
    }


def run_in_process(rows: int, officer, *, heap: bool = False) -> dict:
    user = in_process.make_subject(rows, f"{rows}-{uuid.uuid4().hex[:8]}")
    return export_and_erase(user, officer, heap=heap)


def run_external(shop: Shop, rows: int, officer, *, heap: bool = False) -> dict:
    email = f"bench.sql.{uuid.uuid4().hex[:8]}@example.com"
    orders = rows // 10
    customer = shop.add_person(email, orders=orders, items=rows - 1 - orders)
    user = _person(email)
    load_systems(text=SYSTEM_YAML)
    try:
        r = export_and_erase(user, officer, heap=heap)
    finally:
        ExternalSystem.objects.filter(key="bench_shop").delete()
    assert r["rows"] >= rows, r["rows"]
    left = shop.left_of(customer)
    assert left == (0, 0, 0), f"not erased: {left}"
    return r


def best(runs: list[dict]) -> dict:
    """On a shared host the fastest run is the least disturbed one; memory is reported at its worst."""
    out = {"rows": runs[0]["rows"], "zip_mb": runs[0]["zip_mb"]}
    for k in ("export_s", "erase_s"):
        out[k] = min(r[k] for r in runs)
    for k in ("export_rise", "export_peak", "erase_rise", "erase_peak"):
        out[k] = max(r[k] for r in runs)
    for k in ("export_heap", "erase_heap"):
        values = [r[k] for r in runs if r[k] is not None]
        out[k] = max(values) if values else None
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=2, help="timed runs per size and side (alternated)")
    parser.add_argument("--heap", action="store_true", help="one more run per size and side under tracemalloc")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    others = list(ExternalSystem.objects.exclude(key="bench_shop").values_list("key", flat=True))
    if others:
        sys.exit(f"the portal database declares other connected systems ({', '.join(others)}): use a scratch one")
    User = get_user_model()
    officer = User.objects.filter(username="bench-officer").first() or User.objects.create_superuser(
        username="bench-officer", email="bench-officer@example.com", password="x"
    )
    t0 = time.perf_counter()
    shop = Shop()
    print(f"portal database: {connection.vendor}; shop database {shop.name} filled in {time.perf_counter() - t0:.1f} s")
    os.environ[URL_ENV] = shop.url
    try:
        # Warm-up: imports, templates, connections and the engine's pool are not part of the figures.
        run_in_process(500, officer)
        run_external(shop, 500, officer)
        results = {}
        for size in args.sizes:
            timed = {"in-process": [], "external": []}
            for _ in range(max(1, args.repeat)):
                timed["in-process"].append(run_in_process(size, officer))
                timed["external"].append(run_external(shop, size, officer))
            if args.heap:
                timed["in-process"].append(run_in_process(size, officer, heap=True) | {"export_s": 1e9, "erase_s": 1e9})
                timed["external"].append(
                    run_external(shop, size, officer, heap=True) | {"export_s": 1e9, "erase_s": 1e9}
                )
            results[size] = {side: best(runs) for side, runs in timed.items()}
            report(size, results[size])
        summary(results)
    finally:
        shop.drop()


def _mb(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def report(size: int, sides: dict) -> None:
    print(f"\n{size:,} rows (load average {os.getloadavg()[0]:.1f})")
    print(
        f"{'side':<11} {'rows':>7} {'export s':>8} {'µs/row':>6} {'+RSS MB':>7} {'RSS MB':>6} {'heap MB':>7} "
        f"{'erase s':>7} {'µs/row':>6} {'+RSS MB':>7} {'RSS MB':>6} {'heap MB':>7}"
    )
    for side, r in sides.items():
        print(
            f"{side:<11} {r['rows']:>7} {r['export_s']:>8.2f} {1e6 * r['export_s'] / r['rows']:>6.0f} "
            f"{r['export_rise']:>7.1f} {r['export_peak']:>6.0f} {_mb(r['export_heap']):>7} "
            f"{r['erase_s']:>7.2f} {1e6 * r['erase_s'] / r['rows']:>6.0f} "
            f"{r['erase_rise']:>7.1f} {r['erase_peak']:>6.0f} {_mb(r['erase_heap']):>7}"
        )
    ext, inp = sides["external"], sides["in-process"]
    for phase in ("export", "erase"):
        ratio = (ext[f"{phase}_s"] / ext["rows"]) / (inp[f"{phase}_s"] / inp["rows"])
        print(f"{phase}: external / in-process time per row = {ratio:.2f} (target <= 2)")


def summary(results: dict) -> None:
    if len(results) < 2:
        return
    small, large = min(results), max(results)
    for phase in ("export", "erase"):
        growth = results[large]["external"][f"{phase}_rise"] - results[small]["external"][f"{phase}_rise"]
        print(f"{phase}: external peak RSS rise {small:,} -> {large:,} rows: {growth:+.1f} MB (target < +50)")


if __name__ == "__main__":
    main()
