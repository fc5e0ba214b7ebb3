"""The enforcement engine on a plain dataset: batches, holds, crash and resume, field actions, seeding."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry.models import LegalHold
from registry.strategies import PSEUDONYM_PREFIX
from retention.enforcement import enforce_retention
from retention.models import ItemStatus, RetentionAction, RetentionPolicy, RetentionRun, RunStatus, SweepSample
from retention.policies import sync_policies
from tests.conftest import is_postgres


@pytest.mark.smoke
def test_enforce_deletes_only_expired_rows_and_reports(sample_policy, make_samples):
    make_samples(7, age_days=40)
    fresh = make_samples(3, age_days=5)
    run = enforce_retention()
    assert run.status == RunStatus.COMPLETED
    assert set(SweepSample.objects.values_list("pk", flat=True)) == {s.pk for s in fresh}
    item = run.items.get()
    assert (item.matched, item.deleted, item.modified, item.skipped_hold) == (7, 7, 0, 0)
    assert item.status == ItemStatus.DONE and item.duration_seconds >= 0


def test_batches_never_exceed_the_batch_size(sample_policy, make_samples, settings):
    settings.RETENTION_BATCH_SIZE = 4
    make_samples(10)
    done = []
    run = enforce_retention(progress=lambda item, matched, total: done.append(matched))
    assert done == [4, 8, 10]  # batches of 4, 4 and 2
    item = run.items.get()
    assert (item.batches, item.deleted) == (3, 10)
    assert not SweepSample.objects.exists()


def test_each_batch_is_its_own_transaction(sample_policy, make_samples, settings, on_batch):
    settings.RETENTION_BATCH_SIZE = 3
    make_samples(7)
    depths = []
    on_batch(lambda: depths.append(len(transaction.get_connection().savepoint_ids)))
    assert enforce_retention().items.get().batches == 3
    # One atomic block per batch, each inside exactly one (fresh) savepoint under the test transaction
    # (on PostgreSQL a last statement also runs, and finds nothing left).
    assert len(depths) >= 3 and len(set(depths)) == 1 and depths[0] >= 1


@pytest.mark.postgres
def test_plain_deletes_take_one_statement_per_batch_on_postgresql(sample_policy, make_samples, settings, user_factory):
    if not is_postgres():
        pytest.skip("the one-statement batch is PostgreSQL's (data-modifying WITH)")
    settings.RETENTION_BATCH_SIZE = 50
    held = user_factory()
    make_samples(500)
    make_samples(20, user=held)
    LegalHold.objects.create(user=held, reason="Litigation")
    with CaptureQueriesContext(connection) as captured:
        run = enforce_retention()
    # Savepoints only exist because the test runs in a transaction; in a real run each statement commits alone.
    sqls = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    batches = [sql for sql in sqls if "DELETE FROM" in sql]
    # 11 batches, and one last statement that finds nothing left.
    assert len(batches) == 12 and all(sql.lstrip().startswith("DO $retention_") for sql in batches)
    # Setup, the report and its audit events (one per policy, one for the run) are a handful, not several per batch.
    assert len(sqls) <= 11 + 15 + 5
    item = run.items.get()
    assert (item.matched, item.deleted, item.skipped_hold, item.batches) == (520, 500, 20, 11)
    assert int(item.last_pk) >= SweepSample.objects.order_by("pk").last().pk  # the checkpoint covers every row
    item.refresh_from_db()  # the statement wrote the same checkpoint as the report shows
    assert (item.matched, item.deleted, item.skipped_hold, item.batches) == (520, 500, 20, 11)
    assert SweepSample.objects.count() == 20


def test_subject_on_legal_hold_is_skipped_and_reported(sample_policy, make_samples, user_factory):
    held_user = user_factory(email="held@example.com")
    make_samples(2, user=held_user)
    make_samples(1, email="Other-Held@example.com")
    make_samples(5, user=user_factory())
    LegalHold.objects.create(user=held_user, reason="Litigation")
    LegalHold.objects.create(email="other-held@example.com", reason="Investigation")
    run = enforce_retention()
    item = run.items.get()
    assert (item.matched, item.deleted, item.skipped_hold) == (8, 5, 3)
    assert SweepSample.objects.count() == 3


def test_dataset_on_legal_hold_is_skipped_whole(sample_policy, make_samples):
    make_samples(4)
    LegalHold.objects.create(dataset="retention.SweepSample", reason="Audit of the whole dataset")
    item = enforce_retention().items.get()
    assert item.status == ItemStatus.HELD
    assert (item.matched, item.skipped_hold, item.deleted) == (4, 4, 0)
    assert SweepSample.objects.count() == 4


def test_ended_hold_no_longer_protects(sample_policy, make_samples, user_factory):
    user = user_factory()
    make_samples(2, user=user)
    hold = LegalHold.objects.create(user=user, reason="Over")
    LegalHold.objects.filter(pk=hold.pk).update(ends_at=timezone.now() - timedelta(minutes=1))
    assert enforce_retention().items.get().deleted == 2


class Crash(BaseException):
    """Stands for the process dying mid-run (not caught like an ordinary error)."""


def test_crash_then_resume_completes_without_double_counting(sample_policy, make_samples, settings, on_batch):
    settings.RETENTION_BATCH_SIZE = 5
    make_samples(23)
    calls = {"n": 0, "crash": True}

    def crash_on_third():
        calls["n"] += 1
        if calls["n"] == 3 and calls["crash"]:
            raise Crash()

    on_batch(crash_on_third)
    with pytest.raises(Crash):
        enforce_retention()
    run = RetentionRun.objects.get()
    item = run.items.get()
    assert run.status == RunStatus.RUNNING
    assert (item.deleted, item.batches) == (10, 2)  # the third batch rolled back with its checkpoint
    assert SweepSample.objects.count() == 13

    calls["crash"] = False
    resumed = enforce_retention()
    assert resumed.pk == run.pk and resumed.resumed_count == 1
    assert resumed.status == RunStatus.COMPLETED
    item.refresh_from_db()
    assert (item.matched, item.deleted, item.total) == (23, 23, 23)
    assert not SweepSample.objects.exists()
    # A later run starts afresh, and finds nothing left.
    again = enforce_retention()
    assert again.pk != run.pk and again.items.get().matched == 0


def test_an_error_in_one_policy_is_reported_and_others_still_run(sample_policy, make_samples):
    make_samples(3)
    RetentionPolicy.objects.create(
        name="broken", dataset="retention.SweepSample", period=1, date_field="no_such_field", action="delete"
    )
    run = enforce_retention()
    assert run.status == RunStatus.FAILED
    broken = run.items.get(policy_name="broken")
    assert broken.status == ItemStatus.FAILED and "no_such_field" in broken.errors
    assert run.items.get(policy_name="samples").deleted == 3


def test_dry_run_counts_and_changes_nothing(sample_policy, make_samples, user_factory):
    user = user_factory()
    make_samples(6)
    make_samples(2, user=user)
    LegalHold.objects.create(user=user, reason="Litigation")
    run = enforce_retention(dry_run=True)
    item = run.items.get()
    assert run.dry_run and (item.matched, item.deleted, item.skipped_hold) == (8, 6, 2)
    assert SweepSample.objects.count() == 8


def test_null_and_pseudonymise_modify_fields_once(sample_policy, make_samples):
    make_samples(4)
    sample_policy.action = RetentionAction.NULL
    sample_policy.fields = ["ip_address"]
    sample_policy.save()
    RetentionPolicy.objects.create(
        name="pseudonymise-emails",
        dataset="retention.SweepSample",
        period=30,
        date_field="created_at",
        action=RetentionAction.PSEUDONYMISE,
        fields=["email"],
    )
    run = enforce_retention()
    assert {i.policy_name: i.modified for i in run.items.all()} == {"samples": 4, "pseudonymise-emails": 4}
    assert not SweepSample.objects.filter(ip_address__isnull=False).exists()
    emails = set(SweepSample.objects.values_list("email", flat=True))
    assert len(emails) == 4 and all(e.startswith(PSEUDONYM_PREFIX) for e in emails)
    # Nothing left to do: a second run matches nothing and re-hashes nothing.
    second = enforce_retention()
    assert sum(i.matched for i in second.items.all()) == 0
    assert set(SweepSample.objects.values_list("email", flat=True)) == emails


def test_filters_and_month_periods(sample_policy, make_samples):
    sample_policy.period, sample_policy.period_unit = 2, "months"
    sample_policy.filters = {"note": "closed"}
    sample_policy.save()
    make_samples(2, age_days=70, note="closed")
    make_samples(2, age_days=70, note="open")
    make_samples(2, age_days=40, note="closed")
    assert enforce_retention().items.get().deleted == 2
    assert SweepSample.objects.count() == 4


def test_policy_option_runs_one_policy_and_disabled_policies_are_skipped(sample_policy, make_samples):
    make_samples(2)
    sample_policy.enabled = False
    sample_policy.save()
    assert not enforce_retention().items.exists()
    assert enforce_retention(policy_name="samples").items.get().deleted == 2


def test_sync_policies_seeds_the_table_and_keeps_staff_edits(db):
    RetentionPolicy.objects.all().delete()
    sync_policies()
    names = set(RetentionPolicy.objects.values_list("name", flat=True))
    assert "inactive-accounts" in names
    datasets = set(RetentionPolicy.objects.values_list("dataset", flat=True))
    for label in [
        "demo.TrafficLog",
        "demo.BlogComment",
        "demo.SupportConversation",
        "demo.Invoice",
        "requests_app.DataRequest",
        "consent.ConsentRecord",
        "auth.User",
    ]:
        assert label in datasets, label
    policy = RetentionPolicy.objects.exclude(name="inactive-accounts").first()
    policy.period = 999
    policy.customised = True
    policy.save()
    sync_policies()
    policy.refresh_from_db()
    assert policy.period == 999
