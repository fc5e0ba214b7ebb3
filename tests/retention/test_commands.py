"""The command and the lock: dry run with a progress bar, and a second run kept out while one is running."""

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from retention.enforcement import RunLocked, enforce_retention
from retention.management.commands.enforce_retention import EXIT_LOCKED
from retention.models import RetentionRun, SweepSample
from tests.conftest import is_postgres


@pytest.mark.smoke
def test_command_dry_run_shows_counts_and_progress_and_changes_nothing(sample_policy, make_samples, settings):
    settings.RETENTION_BATCH_SIZE = 2
    make_samples(5)
    out = StringIO()
    call_command("enforce_retention", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "Dry run: nothing was changed." in text
    assert "samples (retention.SweepSample, delete): matched 5, would delete 5" in text
    assert "[" + "#" * 30 + "] 5/5" in text
    assert SweepSample.objects.count() == 5
    assert RetentionRun.objects.get().dry_run


def test_command_runs_one_named_policy(sample_policy, make_samples):
    make_samples(3)
    out = StringIO()
    call_command("enforce_retention", "--policy", "samples", "--no-progress", stdout=out)
    assert "matched 3, delete 3" in out.getvalue()
    assert not SweepSample.objects.exists()


def test_command_rejects_unknown_policy(sample_policy):
    with pytest.raises(CommandError, match="nope"):
        call_command("enforce_retention", "--policy", "nope", stdout=StringIO())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_second_run_is_kept_out_while_the_first_holds_the_lock(on_batch, settings, make_samples):
    if not is_postgres():
        pytest.skip("advisory locks need PostgreSQL")
    from retention.models import RetentionPolicy

    RetentionPolicy.objects.all().delete()
    RetentionPolicy.objects.create(
        name="samples", dataset="retention.SweepSample", period=30, date_field="created_at", action="delete"
    )
    settings.RETENTION_BATCH_SIZE = 2
    make_samples(6)
    inside, release = threading.Event(), threading.Event()
    result = {}

    def slow_batch():
        inside.set()
        release.wait(20)

    on_batch(slow_batch)

    def first():
        try:
            result["run"] = enforce_retention()
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert inside.wait(20), "the first run never started"
        # Same process, another database connection: the advisory lock keeps this run out.
        with pytest.raises(RunLocked):
            enforce_retention()
        with pytest.raises(CommandError, match="Another retention run holds the lock") as refused:
            call_command("enforce_retention", "--no-progress", stdout=StringIO())
        assert refused.value.returncode == EXIT_LOCKED
    finally:
        release.set()
        thread.join(30)
    assert result["run"].status == "completed"
    assert result["run"].items.get().deleted == 6
    assert RetentionRun.objects.count() == 1  # the refused runs left no report
    # Once the first run has finished, the lock is free again.
    assert enforce_retention().status == "completed"


@pytest.fixture
def lock_held_elsewhere(transactional_db):
    """Another process holds the enforcement lock: an advisory lock on PostgreSQL, a live lease elsewhere."""
    from datetime import timedelta

    from django.utils import timezone

    from retention import locks
    from retention.models import RunLease

    if not is_postgres():
        now = timezone.now()
        RunLease.objects.create(
            name=locks.LOCK_NAME,
            token="x" * 32,
            holder="elsewhere:1",
            acquired_at=now,
            expires_at=now + timedelta(hours=1),
        )
        yield
        return
    import psycopg2

    d = connection.settings_dict
    other = psycopg2.connect(
        dbname=d["NAME"], user=d.get("USER") or None, password=d.get("PASSWORD") or None,
        host=d.get("HOST") or "127.0.0.1", port=d.get("PORT") or 5432,
    )  # fmt: skip
    other.autocommit = True
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [locks.ADVISORY_KEY])
    try:
        yield
    finally:
        other.close()


def test_command_refused_by_the_lock_exits_75(lock_held_elsewhere, sample_policy, make_samples):
    make_samples(3)
    with pytest.raises(CommandError, match="Another retention run holds the lock") as refused:
        call_command("enforce_retention", "--no-progress", stdout=StringIO())
    assert refused.value.returncode == EXIT_LOCKED == 75
    assert SweepSample.objects.count() == 3 and not RetentionRun.objects.exists()


def test_manage_py_refused_by_the_lock_exits_75(lock_held_elsewhere, sample_policy, make_samples):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.conftest import _database_url_for_subprocess

    make_samples(2)
    d = connection.settings_dict
    url = _database_url_for_subprocess() if is_postgres() else f"sqlite:///{d['NAME']}"
    # DEBUG on: the subprocess uses the local development keys, which production settings refuse.
    env = {**os.environ, "DATABASE_URL": url, "CACHE_URL": "locmemcache://", "DEBUG": "true"}
    base = Path(__file__).resolve().parent.parent.parent
    command = [sys.executable, "manage.py", "enforce_retention", "--no-progress"]
    refused = subprocess.run(command, cwd=base, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 75, refused.stderr
    assert "Another retention run holds the lock" in refused.stderr
    assert SweepSample.objects.count() == 2
