"""Benchmark: sweep 1,000,000 expired rows with the retention engine, against one raw DELETE.

Run on PostgreSQL (a scratch database; the table is emptied):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pp_bench .venv/bin/python bench/retention_sweep.py [--rows N]

Reports both timings, the throughput ratio (raw time / engine time; target >= 0.5) and the
process's resident memory before, at its peak and while the engine runs (target: below 150 MB, flat).
The engine runs as the nightly task does (no progress bar, so no up-front count of the rows).
"""

import argparse
import os
import statistics
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacyportal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from retention.enforcement import enforce_retention  # noqa: E402
from retention.models import RetentionPolicy, SweepSample  # noqa: E402

TABLE = SweepSample._meta.db_table


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakSampler(threading.Thread):
    """Samples resident memory every 20 ms; keeps the peak, and the samples taken while ``recording`` is set."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = rss_mb()
        self.stop = threading.Event()
        self.recording = threading.Event()
        self.samples: list[float] = []

    def run(self):
        while not self.stop.wait(0.02):
            now = rss_mb()
            self.peak = max(self.peak, now)
            if self.recording.is_set():
                self.samples.append(now)


def fill(rows: int) -> None:
    """Expired rows (60-120 days old) straight from generate_series, then fresh statistics."""
    with connection.cursor() as cur:
        cur.execute(f"TRUNCATE {TABLE} RESTART IDENTITY")
        cur.execute(
            f"""INSERT INTO {TABLE} (email, ip_address, note, created_at)
                SELECT 'user' || g || '@example.com', ('192.0.2.' || (g %% 250)::text)::inet, 'bench',
                       now() - interval '60 days' - (g %% 86400) * interval '1 minute'
                FROM generate_series(1, %s) AS g""",
            [rows],
        )
        cur.execute(f"ANALYZE {TABLE}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N for each side (the host is shared)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run this benchmark on PostgreSQL (DATABASE_URL=postgres://...).")
    call_command("migrate", verbosity=0)
    RetentionPolicy.objects.filter(name="bench-sweep").delete()
    policy = RetentionPolicy.objects.create(
        name="bench-sweep", dataset="retention.SweepSample", period=30, date_field="created_at", action="delete"
    )
    RetentionPolicy.objects.exclude(pk=policy.pk).update(enabled=False)  # scratch database: only the bench policy
    cutoff = timezone.now() - timedelta(days=30)

    raw_times, engine_times = [], []
    sampler = PeakSampler()
    before = rss_mb()
    sampler.start()
    for _ in range(args.repeat):
        fill(args.rows)
        started = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(f"DELETE FROM {TABLE} WHERE created_at < %s", [cutoff])
            raw_deleted = cur.rowcount
        raw_times.append(time.perf_counter() - started)

        fill(args.rows)
        # As the nightly task runs it: no progress bar (which would add an up-front count of the rows).
        sampler.recording.set()
        started = time.perf_counter()
        run = enforce_retention(policy_name="bench-sweep", trigger="bench")
        engine_times.append(time.perf_counter() - started)
        sampler.recording.clear()
        item = run.items.get()
        assert item.deleted == raw_deleted == args.rows, "both sweeps must remove every expired row"
    sampler.stop.set()
    sampler.join()
    raw_seconds, engine_seconds = min(raw_times), min(engine_times)
    print(
        f"raw times: {', '.join(f'{t:.2f}s' for t in raw_times)}; engine times: {', '.join(f'{t:.2f}s' for t in engine_times)}"
    )
    ratio = raw_seconds / engine_seconds
    print(f"rows: {args.rows:,}; batch size: {settings.RETENTION_BATCH_SIZE:,}; batches: {item.batches}")
    print(f"raw DELETE ... WHERE: {raw_deleted:,} rows in {raw_seconds:.2f}s ({raw_deleted / raw_seconds:,.0f} rows/s)")
    print(
        f"retention engine:     {item.deleted:,} rows in {engine_seconds:.2f}s ({item.deleted / engine_seconds:,.0f} rows/s)"
    )
    print(f"throughput ratio (raw time / engine time): {ratio:.2f}  (target >= 0.5)")
    print(f"median ratio: {statistics.median(raw_times) / statistics.median(engine_times):.2f}")
    during = sampler.samples or [rss_mb()]
    print(
        f"resident memory: before {before:.1f} MB, peak {sampler.peak:.1f} MB; during the engine's runs "
        f"({len(during)} samples, every 20 ms) min {min(during):.1f} / max {max(during):.1f} MB "
        f"(first {during[0]:.1f}, last {during[-1]:.1f})"
    )
    policy.delete()


if __name__ == "__main__":
    main()
