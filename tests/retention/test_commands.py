"""The command and the lock: dry run with a progress bar, and a second run kept out while one is running."""

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from retention.enforcement import RunLocked, enforce_retention
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
    from django.core.management.base import CommandError

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
        out = StringIO()
        call_command("enforce_retention", "--no-progress", stdout=out)
        assert "Another retention run holds the lock" in out.getvalue()
    finally:
        release.set()
        thread.join(30)
    assert result["run"].status == "completed"
    assert result["run"].items.get().deleted == 6
    assert RetentionRun.objects.count() == 1  # the refused runs left no report
    # Once the first run has finished, the lock is free again.
    assert enforce_retention().status == "completed"
