"""Benchmark: access export and erasure of one subject with many rows spread across datasets.

Run on a scratch database (it is migrated, and the subject's rows are erased afterwards):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pp_bench_registry .venv/bin/python bench/export_erasure.py [--sizes 10000 100000]

For each size it reports the time and the peak Python heap (tracemalloc) of the export and of the
erasure. Bounded memory means the peak stays flat as rows grow; linear time means the time per row
stays about the same.
"""

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacyportal.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from demo import models as m  # noqa: E402
from fulfilment import services  # noqa: E402

# Share of the subject's rows per dataset.
MIX = [
    (m.TrafficLog, 0.5),
    (m.DeviceTelemetry, 0.25),
    (m.BlogComment, 0.15),
    (m.NewsletterSubscription, 0.05),
    (m.Order, 0.05),
]


def make_subject(rows: int, tag: str):
    User = get_user_model()
    user = User.objects.create_user(
        username=f"bench-{tag}",
        email=f"bench.{tag}@example.com",
        password="x",
        first_name="Bench",
        last_name=f"Subject{tag}",
    )
    now = timezone.now()
    for model, share in MIX:
        n = int(rows * share)
        batch = []
        for i in range(n):
            if model is m.TrafficLog:
                obj = m.TrafficLog(user=user, ip_address="10.9.9.9", path=f"/p/{i}", user_agent="bench", created_at=now)
            elif model is m.DeviceTelemetry:
                obj = m.DeviceTelemetry(
                    user=user, device_model="S1", serial_number=f"S{i}", software_version="1.0", battery_level=i % 100
                )
            elif model is m.BlogComment:
                obj = m.BlogComment(
                    user=user,
                    author_name="Bench Subject",
                    author_email=user.email,
                    ip_address="10.9.9.9",
                    post_slug="p",
                    body="text " * 20,
                )
            elif model is m.NewsletterSubscription:
                obj = m.NewsletterSubscription(user=user, email=user.email, list_name=f"list-{i}")
            else:
                obj = m.Order(
                    user=user,
                    number=f"B{tag}-{i}",
                    billing_name="Bench Subject",
                    billing_address="Street 1",
                    product="Plan",
                    amount_cents=100,
                )
            batch.append(obj)
            if len(batch) >= 5000:
                model.objects.bulk_create(batch)
                batch = []
        model.objects.bulk_create(batch)
    return user


def measure(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, elapsed, peak / 1024 / 1024


def run(rows: int, officer) -> dict:
    from requests_app.services import create_verified_request

    user = make_subject(rows, f"{rows}-{time.time_ns() % 10**9}")
    access = create_verified_request(user=user, kind="access")
    export, export_s, export_mb = measure(
        lambda: services.build_export(export=services.start_export(data_request=access))
    )
    erasure = create_verified_request(user=user, kind="erasure")
    services.preview_erasure(data_request=erasure)
    services.approve_erasure(data_request=erasure, actor=officer)
    run_, erase_s, erase_mb = measure(lambda: services.execute_erasure(data_request=erasure))
    assert run_.state == "completed", run_.state
    return {
        "rows": export.rows_total,
        "export_s": export_s,
        "export_mb": export_mb,
        "zip_mb": export.size_bytes / 1e6,
        "erase_s": erase_s,
        "erase_mb": erase_mb,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; the best time and the highest peak count")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    User = get_user_model()
    officer = User.objects.filter(username="bench-officer").first() or User.objects.create_superuser(
        username="bench-officer", email="bench-officer@example.com", password="x"
    )
    run(500, officer)  # warm-up: imports, templates and connections are not part of the figures
    print(f"database: {connection.vendor}")
    print(
        f"{'rows':>8} {'export s':>9} {'µs/row':>7} {'peak MB':>8} {'zip MB':>7} {'erase s':>8} {'µs/row':>7} {'peak MB':>8}"
    )
    for size in args.sizes:
        runs = [run(size, officer) for _ in range(max(1, args.repeat))]
        # On a shared host the fastest run is the least disturbed one; memory is reported at its worst.
        r = {
            "rows": runs[0]["rows"],
            "export_s": min(x["export_s"] for x in runs),
            "export_mb": max(x["export_mb"] for x in runs),
            "zip_mb": runs[0]["zip_mb"],
            "erase_s": min(x["erase_s"] for x in runs),
            "erase_mb": max(x["erase_mb"] for x in runs),
        }
        print(
            f"{r['rows']:>8} {r['export_s']:>9.2f} {1e6 * r['export_s'] / r['rows']:>7.0f} {r['export_mb']:>8.1f} "
            f"{r['zip_mb']:>7.1f} {r['erase_s']:>8.2f} {1e6 * r['erase_s'] / r['rows']:>7.0f} {r['erase_mb']:>8.1f}"
        )


if __name__ == "__main__":
    main()
