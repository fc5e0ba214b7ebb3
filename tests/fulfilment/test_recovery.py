"""The watchdog: exports and erasures whose worker died are picked up again within minutes, and say so."""

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from fulfilment import services
from fulfilment.models import DataExport, ErasureRun
from fulfilment.recovery import resume_stalled_runs

BASE_DIR = Path(__file__).resolve().parent.parent.parent


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing in the task gets to record a failure."""


def _stalled_erasure(user_factory, subject_data, verified_request_for, officer):
    user = user_factory()
    subject_data(user)
    data_request = verified_request_for(user, kind="erasure")
    services.preview_erasure(data_request=data_request)
    services.approve_erasure(data_request=data_request, actor=officer)

    def killed_on_traffic(step):
        if step.dataset == "demo.TrafficLog":
            raise WorkerKilled

    with pytest.raises(WorkerKilled):
        services.execute_erasure(data_request=data_request, on_step=killed_on_traffic)
    return user, data_request, ErasureRun.objects.get(data_request=data_request)


@pytest.mark.django_db
def test_a_stalled_erasure_is_resumed_by_the_watchdog_and_its_report_says_so(
    user_factory, subject_data, verified_request_for, officer, settings, django_capture_on_commit_callbacks
):
    from django.contrib.auth import get_user_model

    from demo.models import TrafficLog

    settings.FULFILMENT_STALL_MINUTES = 10
    user, data_request, run = _stalled_erasure(user_factory, subject_data, verified_request_for, officer)
    assert run.state == ErasureRun.State.RUNNING and run.progress_at is not None  # half done, still "running"
    assert run.steps.filter(state="done").exists() and TrafficLog.objects.filter(user=user).exists()
    # Another erasure, still making progress: left alone.
    _, _, live = _stalled_erasure(user_factory, subject_data, verified_request_for, officer)

    # Nine minutes without progress: not yet stalled.
    with django_capture_on_commit_callbacks(execute=True):
        assert resume_stalled_runs(now=run.progress_at + timedelta(minutes=9)) == {"exports": 0, "erasures": 0}
    ErasureRun.objects.filter(pk=live.pk).update(progress_at=timezone.now() + timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=True):  # eager: the queued task runs once committed
        result = resume_stalled_runs(now=run.progress_at + timedelta(minutes=11))
    assert result == {"exports": 0, "erasures": 1}

    run.refresh_from_db()
    assert run.state == ErasureRun.State.COMPLETED and run.crash_resumes == 1 and run.attempts == 2
    assert run.report["resumed_after_crash"] == 1
    assert not TrafficLog.objects.filter(user=user).exists()
    assert not get_user_model().objects.filter(pk=user.pk, is_active=True).exists()
    event = data_request.events.get(new="resumed after a worker crash")
    assert (
        event.actor_label == "watchdog"
        and "worker crashed" in event.note
        and "from the last finished step" in event.note
    )
    live.refresh_from_db()
    assert live.state == ErasureRun.State.RUNNING and live.crash_resumes == 0


@pytest.mark.django_db
def test_a_stalled_export_is_rebuilt_by_the_watchdog_and_a_progressing_one_is_left_alone(
    user_factory, subject_data, verified_request_for, django_capture_on_commit_callbacks
):
    now = timezone.now()
    stalled_user, live_user = user_factory(), user_factory()
    subject_data(stalled_user)
    subject_data(live_user)
    stalled = services.start_export(data_request=verified_request_for(stalled_user))
    live = services.start_export(data_request=verified_request_for(live_user))
    DataExport.objects.filter(pk=stalled.pk).update(
        state=DataExport.State.RUNNING, started_at=now - timedelta(minutes=30), progress_at=now - timedelta(minutes=11)
    )
    DataExport.objects.filter(pk=live.pk).update(
        state=DataExport.State.RUNNING, started_at=now - timedelta(minutes=30), progress_at=now - timedelta(minutes=2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert resume_stalled_runs(now=now) == {"exports": 1, "erasures": 0}
    stalled.refresh_from_db()
    live.refresh_from_db()
    assert stalled.state == DataExport.State.READY and stalled.crash_resumes == 1 and stalled.rows_done > 0
    assert live.state == DataExport.State.RUNNING and live.crash_resumes == 0
    assert stalled.data_request.events.filter(new="restarted after a worker crash", actor_label="watchdog").exists()
    assert not live.data_request.events.filter(new="restarted after a worker crash").exists()


@pytest.mark.django_db
def test_the_watchdog_command_and_task_run_the_same_service(monkeypatch):
    from fulfilment.tasks import resume_stalled_runs_task

    monkeypatch.setattr("fulfilment.recovery.resume_stalled_runs", lambda **kw: {"exports": 2, "erasures": 1})
    out = StringIO()
    call_command("resume_stalled_runs", stdout=out)
    assert "Resumed 1 erasure(s) and restarted 2 export(s)." in out.getvalue()
    assert resume_stalled_runs_task.apply().get() == {"exports": 2, "erasures": 1}


def test_redis_visibility_timeout_outlasts_every_task():
    """Shorter than a task, Redis would hand a task still running to a second worker."""
    from privacyportal.celery import app

    app.loader.import_default_modules()
    longest = max(t.time_limit or settings.CELERY_TASK_TIME_LIMIT for t in app.tasks.values())
    assert settings.CELERY_VISIBILITY_TIMEOUT > longest
    code = "from privacyportal.celery import app; print(app.conf.broker_transport_options['visibility_timeout'])"
    env = {**os.environ, "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0", "DEBUG": "true"}
    env.pop("CELERY_VISIBILITY_TIMEOUT", None)
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "privacyportal.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip().splitlines()[-1]) == settings.CELERY_VISIBILITY_TIMEOUT


@pytest.mark.postgres
@pytest.mark.redis
def test_a_worker_killed_mid_erasure_is_resumed_by_the_watchdog_on_a_new_worker(
    celery_worker_process, user_factory, officer, tmp_path
):
    """The review's crash: the whole worker killed mid-erasure; its message stays unacknowledged in Redis."""
    import socket
    import time

    import psycopg2
    from django.db import connection

    from demo.models import TrafficLog
    from requests_app.services import create_verified_request
    from tests.conftest import wait_until
    from tests.registry.conftest import make_subject_data

    user = user_factory()
    make_subject_data(user)
    data_request = create_verified_request(user=user, kind="erasure")
    run = wait_until(lambda: ErasureRun.objects.filter(data_request=data_request).first(), timeout=60)
    # Another connection locks the subject's traffic rows: the worker's erasure blocks at that step, half done.
    d = connection.settings_dict
    blocker = psycopg2.connect(
        dbname=d["NAME"], user=d.get("USER") or None, password=d.get("PASSWORD") or None,
        host=d.get("HOST") or "127.0.0.1", port=d.get("PORT") or 5432,
    )  # fmt: skip
    with blocker.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {TrafficLog._meta.db_table} WHERE user_id = %s FOR UPDATE", [user.pk])
    services.approve_erasure(data_request=data_request, actor=officer)  # committed: queued to the worker
    worker = celery_worker_process["process"]
    try:
        wait_until(
            lambda: (
                ErasureRun.objects.filter(pk=run.pk, state="running").exists()
                and run.steps.filter(state="done").exists()
            ),
            timeout=90,
        )
        time.sleep(1)  # inside the blocked step
        worker.kill()  # SIGKILL, solo pool: the worker and its task die together, nothing acknowledged
        worker.wait(15)
    finally:
        blocker.rollback()
        blocker.close()
    run.refresh_from_db()
    assert run.state == ErasureRun.State.RUNNING and TrafficLog.objects.filter(user=user).exists()

    queue, env = celery_worker_process["queue"], celery_worker_process["env"]
    nodename = f"{queue}-restarted@{socket.gethostname()}"
    log = tmp_path / "worker2.log"
    restarted = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "privacyportal", "worker", "--pool=solo", "-n", nodename, "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
        cwd=BASE_DIR, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_until(lambda: f"{nodename} ready." in log.read_text(errors="replace"), timeout=180)
        time.sleep(3)
        run.refresh_from_db()
        assert run.state == ErasureRun.State.RUNNING  # Redis keeps the message for hours: nothing came back
        later = timezone.now() + timedelta(minutes=settings.FULFILMENT_STALL_MINUTES + 1)
        assert resume_stalled_runs(now=later) == {"exports": 0, "erasures": 1}
        try:
            run = wait_until(lambda: ErasureRun.objects.filter(pk=run.pk, state="completed").first(), timeout=120)
        except AssertionError:
            pytest.fail(log.read_text(errors="replace")[-4000:])
    finally:
        restarted.terminate()
        restarted.wait(15)
    assert run.crash_resumes == 1 and run.report["resumed_after_crash"] == 1
    assert not TrafficLog.objects.filter(user=user).exists()
    assert data_request.events.filter(new="resumed after a worker crash", actor_label="watchdog").exists()
