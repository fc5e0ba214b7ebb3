"""The enforcement lock where there are no advisory locks (the embedded SQLite default): a lease row."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from retention import enforcement, locks
from retention.enforcement import RunLocked, enforce_retention
from retention.models import RetentionRun, RunLease, RunStatus, SweepSample
from tests.conftest import is_postgres

BASE_DIR = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def lease_db(db):
    if is_postgres():
        pytest.skip("on PostgreSQL the lock is an advisory lock (tests/retention/test_commands.py)")


def test_lease_is_exclusive_until_released(lease_db):
    assert locks._take_lease("a" * 32)
    assert not locks._take_lease("b" * 32)
    RunLease.objects.filter(token="a" * 32).delete()
    assert locks._take_lease("b" * 32)


@pytest.mark.smoke
def test_a_live_lease_keeps_a_run_out_and_a_crashed_runs_lease_runs_out(lease_db, sample_policy, make_samples):
    make_samples(3)
    now = timezone.now()
    # Another process holds the lock (its lease is fresh): this run does nothing and leaves no report.
    lease = RunLease.objects.create(
        name=locks.LOCK_NAME, token="x" * 32, holder="elsewhere:1", acquired_at=now, expires_at=now + locks.LEASE
    )
    with pytest.raises(RunLocked):
        enforce_retention()
    assert SweepSample.objects.count() == 3 and not RetentionRun.objects.exists()
    # That process died without releasing: once its lease is over, the next run goes ahead.
    RunLease.objects.filter(pk=lease.pk).update(expires_at=now - timedelta(seconds=1))
    assert enforce_retention().items.get().deleted == 3
    assert not RunLease.objects.exists()  # released at the end of the run


def test_run_renews_its_lease_and_stops_when_taken_over(lease_db, sample_policy, make_samples, settings, monkeypatch):
    settings.RETENTION_BATCH_SIZE = 2
    make_samples(6)
    monkeypatch.setattr(locks, "RENEW_EVERY_SECONDS", 0)
    seen = []
    real_apply = enforcement._apply

    def spy(policy, model, window):
        lease = RunLease.objects.get()
        seen.append(lease.expires_at)
        if len(seen) == 2:
            # The lease ran out while this run stalled, and another run took it over.
            RunLease.objects.filter(pk=lease.pk).update(token="y" * 32)
        return real_apply(policy, model, window)

    monkeypatch.setattr(enforcement, "_apply", spy)
    with pytest.raises(locks.LockLost):
        enforce_retention()
    assert seen[1] > seen[0]  # renewed after the first batch
    run = RetentionRun.objects.get()
    # Stopped after the batch in flight, still resumable by the run that took over.
    assert run.status == RunStatus.RUNNING and run.items.get().batches == 2
    assert SweepSample.objects.count() == 2


def _manage(env, *args, timeout=180):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )


WRITER = """
import time
from django.db import transaction
from demo.models import TrafficLog
end = time.monotonic() + {seconds}
n = 0
while time.monotonic() < end:
    with transaction.atomic():  # like a busy web process: short write transactions, back to back
        TrafficLog.objects.create(path="/busy/%d" % n)
        time.sleep(0.02)
    n += 1
print("writes", n)
"""

SETUP = """
from datetime import timedelta
from django.utils import timezone
from retention.models import RetentionPolicy, SweepSample
RetentionPolicy.objects.update(enabled=False)
RetentionPolicy.objects.create(name="samples", dataset="retention.SweepSample", period=30,
                               date_field="created_at", action="delete")
old = timezone.now() - timedelta(days=60)
SweepSample.objects.bulk_create([SweepSample(created_at=old, email="s%d@example.com" % i) for i in range(3000)])
"""


def test_two_command_runs_at_once_on_a_busy_sqlite_file(tmp_path):
    """While other processes write to the shared SQLite file, two runs start together: one works, one is kept out."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL")}
    env.update(VAR_DIR=str(tmp_path), RETENTION_BATCH_SIZE="100", DEBUG="false", SECRET_KEY="test-only-" + "x" * 40)
    migrated = _manage(env, "migrate", "--noinput", "-v0")
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    setup = _manage(env, "shell", "-c", SETUP)
    assert setup.returncode == 0, setup.stderr[-2000:]

    def start(*args):
        return subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip

    writer = start("shell", "-c", WRITER.format(seconds=8))
    time.sleep(1)
    runs = [start("enforce_retention", "--no-progress") for _ in range(2)]
    outputs = [p.communicate(timeout=180)[0] for p in runs]
    writer_out = writer.communicate(timeout=60)[0]
    for proc, out in zip([*runs, writer], [*outputs, writer_out], strict=True):
        # A run kept out by the lock exits 75 (EX_TEMPFAIL); every other process succeeds.
        refused = proc is not writer and "Another retention run holds the lock" in out
        assert proc.returncode == (75 if refused else 0), out[-2000:]
        assert "database is locked" not in out
    assert sum("Another retention run holds the lock" in out for out in outputs) <= 1
    check = _manage(
        env,
        "shell",
        "-c",
        "from django.db.models import Sum\n"
        "from retention.models import RetentionRun, RetentionRunItem, SweepSample, RunLease\n"
        "print('RESULT', SweepSample.objects.count(), RunLease.objects.count(),"
        " RetentionRunItem.objects.aggregate(n=Sum('deleted'))['n'],"
        " ','.join(RetentionRun.objects.values_list('status', flat=True)))",
    )
    result = [line for line in check.stdout.splitlines() if line.startswith("RESULT")]
    assert result, check.stderr[-2000:]
    # Every expired row is gone; each run that got in left a completed report (a late second run finds nothing).
    samples, leases, deleted, statuses = result[0].split(" ")[1:]
    assert (samples, leases, deleted) == ("0", "0", "3000")  # nothing counted twice, lease released
    assert set(statuses.split(",")) == {"completed"}
