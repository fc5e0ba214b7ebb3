"""Retention policies saved in admin and retention runs write the audit trail, with actor and old and new values."""

import pytest

from audit.models import ActorKind, AuditEvent
from audit.selectors import list_object_events
from retention.enforcement import enforce_retention
from retention.models import RetentionPolicy, SweepSample
from tests.audit.helpers import change_form_data, officer

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client(client):
    user = officer()
    client.force_login(user)
    client.user = user
    return client


def test_policy_edit_in_admin_records_who_and_the_old_and_new_values(officer_client, sample_policy):
    url = f"/admin/retention/retentionpolicy/{sample_policy.pk}/change/"
    data = change_form_data(officer_client.get(url), period="45", legal_basis="Kept for 45 days.")
    response = officer_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = list_object_events(obj=sample_policy).get(verb="changed")
    assert (event.actor, event.actor_kind) == (officer_client.user, ActorKind.STAFF)
    assert event.old == {"period": 30, "legal_basis": "Test data, not needed after 30 days."}
    assert event.new == {"period": 45, "legal_basis": "Kept for 45 days."}
    sample_policy.refresh_from_db()
    assert sample_policy.period == 45 and sample_policy.customised
    page = officer_client.get(f"/admin/retention/retentionpolicy/{sample_policy.pk}/audit/").content.decode()
    assert "Period: 30 → 45" in page


def test_policy_added_and_deleted_in_admin_is_audited(officer_client, sample_policy):
    page = officer_client.get("/admin/retention/retentionpolicy/add/")
    data = change_form_data(
        page,
        name="old-samples",
        dataset="retention.SweepSample",
        period="24",
        period_unit="months",
        date_field="created_at",
        action="delete",
        filters="{}",
        fields="[]",
    )
    response = officer_client.post("/admin/retention/retentionpolicy/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    added = RetentionPolicy.objects.get(name="old-samples")
    created = list_object_events(obj=added).get(verb="created")
    assert created.actor == officer_client.user and created.new["period"] == 24
    pk = added.pk
    response = officer_client.post(f"/admin/retention/retentionpolicy/{pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    deleted = AuditEvent.objects.get(verb="deleted", object_id=str(pk), content_type=created.content_type)
    assert deleted.actor == officer_client.user and deleted.old["name"] == "old-samples"


def test_a_run_writes_one_event_per_policy_and_one_for_the_run(sample_policy, make_samples):
    make_samples(3)
    make_samples(2, age_days=5)
    enforce_retention(dry_run=True)
    assert not AuditEvent.objects.exists()  # a dry run changes nothing
    run = enforce_retention()
    assert SweepSample.objects.count() == 2
    enforced = list_object_events(obj=sample_policy).get(verb="enforced")
    assert enforced.actor_kind == ActorKind.SYSTEM and enforced.actor_label == "retention enforcement"
    assert enforced.new["deleted"] == 3 and enforced.new["status"] == "done"
    finished = list_object_events(obj=run).get(verb="run_finished")
    assert finished.new == {"status": "completed", "policies": 1, "deleted": 3, "modified": 0, "skipped_hold": 0}
    assert AuditEvent.objects.count() == 2


def test_switching_and_running_scheduled_jobs_in_admin_is_audited(officer_client, django_capture_on_commit_callbacks):
    from django_celery_beat.models import PeriodicTask

    from privacyportal.celery import app

    app.loader.import_default_modules()
    job = PeriodicTask.objects.get(task="retention.enforce_retention")
    changelist = "/admin/django_celery_beat/periodictask/"
    officer_client.post(changelist, {"action": "disable_tasks", "_selected_action": [job.pk]})
    job.refresh_from_db()
    assert job.enabled is False
    off = list_object_events(obj=job).get(verb="schedule_changed")
    assert (off.actor, off.old, off.new) == (officer_client.user, {"enabled": True}, {"enabled": False})
    officer_client.post(changelist, {"action": "toggle_tasks", "_selected_action": [job.pk]})
    job.refresh_from_db()
    assert job.enabled is True and list_object_events(obj=job).filter(verb="schedule_changed").count() == 2

    with django_capture_on_commit_callbacks(execute=False):  # the job itself is not the point here
        officer_client.post(
            "/admin/retention/scheduledjob/", {"action": "run_now", "_selected_action": [job.pk]}, follow=True
        )
    ran = list_object_events(obj=job).get(verb="run_now")
    assert ran.actor == officer_client.user
    page = officer_client.get(f"/admin/django_celery_beat/periodictask/{job.pk}/audit/").content.decode()
    assert "Run now by staff" in page and "Schedule changed" in page
