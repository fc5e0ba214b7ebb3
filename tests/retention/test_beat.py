"""A real Celery beat (DatabaseScheduler) and worker on Redis enforce retention on schedule."""

import subprocess
import sys
from pathlib import Path

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from retention.models import RetentionPolicy, RetentionRun, SweepSample
from tests.conftest import wait_until

BASE_DIR = Path(__file__).resolve().parent.parent.parent


@pytest.mark.redis
@pytest.mark.postgres
def test_beat_schedules_retention_and_worker_enforces_it(celery_worker_process, make_samples, tmp_path):
    RetentionPolicy.objects.all().delete()
    RetentionPolicy.objects.create(
        name="samples", dataset="retention.SweepSample", period=30, date_field="created_at", action="delete"
    )
    make_samples(12, age_days=60)
    keep = make_samples(3, age_days=1)
    PeriodicTask.objects.all().delete()
    every_2s, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="retention test sweep", task="retention.enforce_retention", interval=every_2s)

    log = tmp_path / "beat.log"
    beat = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "privacyportal",
            "beat",
            "--loglevel=INFO",
            "-s",
            str(tmp_path / "beat-schedule"),
            "--pidfile=",
        ],  # fmt: skip
        cwd=BASE_DIR,
        env=celery_worker_process["env"],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        run = wait_until(
            lambda: RetentionRun.objects.filter(trigger="schedule", status="completed", items__deleted=12).first(),
            timeout=60,
        )
    except AssertionError:
        worker_log = celery_worker_process["log"].read_text(errors="replace")[-2000:]
        pytest.fail(f"no scheduled run\nbeat:\n{log.read_text(errors='replace')[-2000:]}\nworker:\n{worker_log}")
    finally:
        beat.terminate()
        beat.wait(15)
    assert set(SweepSample.objects.values_list("pk", flat=True)) == {s.pk for s in keep}
    assert "retention.enforce_retention" in log.read_text(errors="replace")
    assert run.items.get().matched == 12
