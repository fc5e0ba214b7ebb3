"""Schedules in admin: officers switch and reschedule the portal's jobs and nothing else; only jobs run from a schedule."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from core.permissions import PRIVACY_OFFICER, SUPPORT_AGENT, sync_group_permissions
from privacyportal.celery import SCHEDULED_JOBS, NotAScheduledJob, app
from retention.models import JobEventKind, ScheduledJob, ScheduledJobEvent
from retention.services import run_scheduled_job
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db
JOB = "retention.enforce_retention"


@pytest.fixture(autouse=True)
def _tasks_loaded():
    app.loader.import_default_modules()


@pytest.fixture
def officer(user_factory):
    sync_group_permissions()
    user = user_factory(is_staff=True, email="officer@example.com")
    user.groups.add(Group.objects.get(name=PRIVACY_OFFICER))
    return user


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


@pytest.fixture
def job():
    return PeriodicTask.objects.get(task=JOB)


def _change_url(task):
    return reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])


def _full_post(task, **changes):
    """Every field the third-party change form has, as an attacker would post it."""
    data = {
        "name": task.name,
        "regtask": "demo.seed_demo",
        "task": "demo.seed_demo",
        "enabled": "on" if task.enabled else "",
        "description": task.description,
        "crontab": task.crontab_id or "",
        "interval": task.interval_id or "",
        "args": "[]",
        "kwargs": '{"users": 1, "if_empty": true}',
        "queue": "evil",
        "exchange": "evil",
        "routing_key": "evil",
        "headers": '{"x": 1}',
        "priority": "",
        "expire_seconds": "",
        "_save": "Save",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_officer_change_form_shows_no_editable_task_field(officer_client, job):
    response = officer_client.get(_change_url(job))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="task"' not in html and 'name="regtask"' not in html
    assert 'name="kwargs"' not in html and 'name="queue"' not in html and 'name="headers"' not in html
    assert 'name="enabled"' in html and 'name="crontab"' in html
    assert JOB in html  # shown, read-only


def test_officer_cannot_point_a_job_at_another_task_but_can_switch_and_reschedule_it(officer_client, officer, job):
    other_time, _ = CrontabSchedule.objects.get_or_create(minute="0", hour="4", timezone=job.crontab.timezone)
    response = officer_client.post(_change_url(job), _full_post(job, enabled="", crontab=other_time.pk))
    assert response.status_code == 302, response.content.decode()[:2000]
    job.refresh_from_db()
    assert job.task == JOB and job.kwargs == "{}" and job.args == "[]"
    assert job.queue is None and job.exchange is None and job.routing_key is None and job.headers == "{}"
    assert not PeriodicTask.objects.filter(task="demo.seed_demo").exists()
    assert job.enabled is False and job.crontab_id == other_time.pk  # what officers may change, changed
    event = ScheduledJobEvent.objects.get(kind=JobEventKind.SCHEDULE_CHANGED)
    assert (
        event.actor == officer and event.task == JOB and "enabled: True" in event.old and "enabled: False" in event.new
    )


def test_officer_cannot_change_a_schedule_that_is_not_a_portal_job(officer_client, job):
    foreign = PeriodicTask.objects.create(name="cleanup", task="celery.backend_cleanup", crontab=job.crontab)
    response = officer_client.post(_change_url(foreign), _full_post(foreign, enabled=""))
    assert response.status_code == 403
    foreign.refresh_from_db()
    assert foreign.enabled and foreign.task == "celery.backend_cleanup"


def test_officer_cannot_add_tasks_or_edit_shared_schedules(officer_client, job):
    assert officer_client.get(reverse("admin:django_celery_beat_periodictask_add")).status_code == 403
    crontab = job.crontab
    url = reverse("admin:django_celery_beat_crontabschedule_change", args=[crontab.pk])
    response = officer_client.post(url, {"minute": "*", "hour": "*", "day_of_month": "*", "month_of_year": "*",
                                         "day_of_week": "*", "timezone": "UTC"})  # fmt: skip
    assert response.status_code == 403
    crontab.refresh_from_db()
    assert crontab.hour == "2"
    delete = reverse("admin:django_celery_beat_periodictask_delete", args=[job.pk])
    assert officer_client.post(delete, {"post": "yes"}).status_code == 403
    assert PeriodicTask.objects.filter(pk=job.pk).exists()


def test_officer_has_no_run_selected_tasks_action(officer_client, job, monkeypatch):
    evil = PeriodicTask.objects.create(
        name="evil", task="demo.seed_demo", kwargs='{"users": 1, "if_empty": true}', crontab=job.crontab
    )
    changelist = reverse("admin:django_celery_beat_periodictask_changelist")
    page = officer_client.get(changelist).content.decode()
    assert 'value="run_tasks"' not in page and 'value="enable_tasks"' in page
    from celery.app.task import Task

    sent = []
    monkeypatch.setattr(Task, "apply_async", lambda *a, **kw: sent.append(a))
    officer_client.post(changelist, {"action": "run_tasks", "_selected_action": [evil.pk, job.pk]})
    assert sent == []


def test_officer_enable_and_disable_actions_touch_only_portal_jobs(officer_client, job):
    foreign = PeriodicTask.objects.create(name="cleanup", task="celery.backend_cleanup", crontab=job.crontab)
    changelist = reverse("admin:django_celery_beat_periodictask_changelist")
    officer_client.post(changelist, {"action": "disable_tasks", "_selected_action": [foreign.pk, job.pk]})
    foreign.refresh_from_db()
    job.refresh_from_db()
    assert foreign.enabled and not job.enabled


def test_superuser_cannot_schedule_a_task_that_is_not_a_job(client, staff_user, job):
    client.force_login(staff_user)
    response = client.post(_change_url(job), _full_post(job, queue="", exchange="", routing_key="", headers="{}"))
    assert response.status_code == 200  # the form again, with the error
    assert "not one of the portal&#x27;s scheduled jobs" in response.content.decode()
    job.refresh_from_db()
    assert job.task == JOB


def test_a_task_sent_by_a_schedule_runs_only_if_it_is_a_scheduled_job(user_factory):
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.count()
    refused = app.tasks["demo.seed_demo"].apply(
        kwargs={"users": 1}, headers={"periodic_task_name": "evil"}, throw=False
    )
    assert refused.failed() and isinstance(refused.result, NotAScheduledJob)
    assert get_user_model().objects.count() == users
    mail = app.tasks["core.send_templated_mail"].apply(
        kwargs={"to": ["x@example.com"], "template": "mail/registry/export_ready", "context": {}},
        headers={"periodic_task_name": "evil"},
        throw=False,
    )
    assert isinstance(mail.result, NotAScheduledJob)
    assert app.tasks["registry.purge_expired_exports"].apply(headers={"periodic_task_name": "purge"}).successful()


def test_beat_refuses_to_send_a_schedule_that_is_not_a_job(job, monkeypatch, caplog):
    from django_celery_beat.schedulers import DatabaseScheduler, ModelEntry

    from retention.schedulers import ScheduledJobsScheduler

    sent = []
    monkeypatch.setattr(DatabaseScheduler, "apply_async", lambda self, entry, *a, **kw: sent.append(entry.task))
    scheduler = ScheduledJobsScheduler(app=app, lazy=True)
    evil = PeriodicTask.objects.create(name="evil", task="demo.seed_demo", crontab=job.crontab)
    scheduler.apply_async(ModelEntry(evil, app=app))
    scheduler.apply_async(ModelEntry(job, app=app))
    assert sent == [JOB]
    assert "demo.seed_demo is not one of the portal's scheduled jobs" in caplog.text


def test_every_seeded_schedule_is_a_registered_scheduled_job():
    app.loader.import_default_modules()
    seeded = set(PeriodicTask.objects.values_list("task", flat=True))
    assert seeded <= SCHEDULED_JOBS
    assert SCHEDULED_JOBS <= set(app.tasks)


def test_officer_runs_a_job_now_from_the_scheduled_jobs_screen(
    officer_client, officer, monkeypatch, django_capture_on_commit_callbacks
):
    job = PeriodicTask.objects.get(task="registry.purge_expired_exports")
    ran = []
    monkeypatch.setattr("fulfilment.services.purge_expired_exports", lambda **kw: ran.append(kw) or 0)
    changelist = reverse("admin:retention_scheduledjob_changelist")
    page = officer_client.get(changelist).content.decode()
    assert 'value="run_now"' in page and job.name in page
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(changelist, {"action": "run_now", "_selected_action": [job.pk]}, follow=True)
    assert "Started now" in response.content.decode()
    assert ran == [{}]  # the job's own service, through its task, with no arguments
    event = ScheduledJobEvent.objects.get(kind=JobEventKind.RUN_NOW)
    assert event.actor == officer and event.task == "registry.purge_expired_exports"


def test_run_now_is_refused_without_the_permission(client, user_factory, monkeypatch):
    sync_group_permissions()
    agent = user_factory(is_staff=True)
    agent.groups.add(Group.objects.get(name=SUPPORT_AGENT))
    looker = user_factory(is_staff=True)
    looker.user_permissions.add(Permission.objects.get(codename="view_scheduledjob"))
    job = ScheduledJob.objects.get(task="registry.purge_expired_exports")
    ran = []
    monkeypatch.setattr("fulfilment.services.purge_expired_exports", lambda **kw: ran.append(kw) or 0)
    changelist = reverse("admin:retention_scheduledjob_changelist")
    client.force_login(agent)
    assert client.get(changelist).status_code == 403
    client.force_login(looker)
    assert 'value="run_now"' not in client.get(changelist).content.decode()
    client.post(changelist, {"action": "run_now", "_selected_action": [job.pk]})
    with pytest.raises(PermissionDenied):
        run_scheduled_job(job=job, actor=looker)
    assert ran == [] and not ScheduledJobEvent.objects.exists()


def test_run_now_refuses_a_task_that_is_not_a_job(officer):
    from django.core.exceptions import ValidationError

    evil = PeriodicTask.objects.create(name="evil", task="demo.seed_demo", crontab=PeriodicTask.objects.first().crontab)
    with pytest.raises(ValidationError):
        run_scheduled_job(job=evil, actor=officer)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_officer_in_a_browser_cannot_point_a_schedule_at_another_task(page, live_server, user_factory):
    """The replay of the security review: fill every input holding the task name, pick the task, press Save."""
    sync_group_permissions()
    officer = user_factory(is_staff=True, email="officer@example.com")
    officer.groups.add(Group.objects.get(name=PRIVACY_OFFICER))
    # Seeded by a migration, but an earlier transactional test may have flushed it.
    nightly, _ = CrontabSchedule.objects.get_or_create(minute="30", hour="2", timezone="Europe/Brussels")
    job = PeriodicTask.objects.filter(task=JOB).first() or PeriodicTask.objects.create(
        name="Retention: enforce policies (nightly)", task=JOB, crontab=nightly
    )
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", officer.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    response = page.goto(f"{live_server.url}{_change_url(job)}")
    assert response.status == 200
    changed = []
    for sel in page.locator("form select").all():
        if sel.is_enabled() and sel.locator("option[value='demo.seed_demo']").count():
            sel.select_option("demo.seed_demo")
            changed.append(sel.get_attribute("name"))
    for inp in page.locator("form input[type=text]").all():
        if inp.is_editable() and inp.input_value() == JOB:
            inp.fill("demo.seed_demo")
            changed.append(inp.get_attribute("name"))
    page.get_by_role("button", name="Save", exact=True).first.click()
    page.wait_for_load_state()
    assert changed == []
    assert PeriodicTask.objects.filter(task="demo.seed_demo").count() == 0
    assert PeriodicTask.objects.get(pk=job.pk).task == JOB


@pytest.mark.postgres
@pytest.mark.redis
def test_a_real_worker_refuses_a_task_beat_sent_that_is_not_a_job(celery_worker_process):
    """As django-celery-beat sends it: the periodic task's name in the message headers."""
    import time

    from django.contrib.auth import get_user_model

    from tests.conftest import wait_until

    users = get_user_model().objects.count()
    app.tasks["demo.seed_demo"].apply_async(kwargs={"users": 1}, headers={"periodic_task_name": "evil"})
    log = celery_worker_process["log"]
    wait_until(lambda: "NotAScheduledJob" in log.read_text(errors="replace"), timeout=60)
    time.sleep(1)
    assert get_user_model().objects.count() == users
    # The same worker still runs a scheduled job sent the same way.
    app.tasks["registry.purge_expired_exports"].apply_async(headers={"periodic_task_name": "purge"})
    wait_until(
        lambda: (
            "registry.purge_expired_exports" in log.read_text(errors="replace")
            and "succeeded" in log.read_text(errors="replace")
        ),
        timeout=60,
    )


# --- every job always has a schedule entry ------------------------------------------------------------


def test_every_scheduled_job_has_a_default_schedule():
    from privacyportal.celery import SCHEDULED_JOBS
    from retention.schedules import DEFAULT_SCHEDULES

    assert {d.task for d in DEFAULT_SCHEDULES} == set(SCHEDULED_JOBS)


@pytest.mark.django_db(transaction=True)
def test_scheduled_jobs_come_back_after_a_flush_of_the_database():
    # A flush (what a transactional test leaves behind, or a `manage.py flush`) empties the tables that the
    # data migrations filled; the post-migrate step schedules every job again.
    from django.core.management import call_command
    from django_celery_beat.models import PeriodicTask

    from privacyportal.celery import SCHEDULED_JOBS

    call_command("flush", interactive=False, verbosity=0)
    assert set(PeriodicTask.objects.filter(task__in=SCHEDULED_JOBS).values_list("task", flat=True)) == set(
        SCHEDULED_JOBS
    )


@pytest.mark.django_db
def test_ensure_scheduled_jobs_fills_in_a_missing_job_and_keeps_staff_changes():
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from retention.services import ensure_scheduled_jobs

    PeriodicTask.objects.filter(task="registry.purge_expired_exports").delete()
    kept = PeriodicTask.objects.get(task="retention.enforce_retention")
    kept.enabled = False
    kept.crontab = CrontabSchedule.objects.create(minute="0", hour="4")
    kept.save()

    assert ensure_scheduled_jobs() == ["registry.purge_expired_exports"]
    assert ensure_scheduled_jobs() == []
    kept.refresh_from_db()
    assert not kept.enabled and kept.crontab.hour == "4"
    assert PeriodicTask.objects.get(task="registry.purge_expired_exports").enabled
