"""Retention in admin: policies are checked when saved, evidence cannot be deleted, read-only staff cannot act."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from retention.models import RetentionAction, RetentionPolicy, RetentionRun


def _policy(**kw):
    fields = {
        "name": "p",
        "dataset": "demo.TrafficLog",
        "period": 90,
        "period_unit": "days",
        "date_field": "created_at",
        "action": RetentionAction.DELETE,
        **kw,
    }
    return RetentionPolicy(**fields)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"dataset": "demo.Nothing"}, "dataset"),
        ({"date_field": "created"}, "date_field"),
        ({"date_field": "path"}, "date_field"),  # a text field is no date
        ({"filters": {"no_such_field": 1}}, "filters"),
        ({"action": RetentionAction.NULL}, "fields"),  # clear what?
        ({"action": RetentionAction.NULL, "fields": ["path"]}, "fields"),  # cannot be empty
        ({"action": RetentionAction.MASK, "fields": ["nope"]}, "fields"),
        ({"fields": ["ip_address"]}, "fields"),  # delete takes whole rows
        ({"dataset": "auth.User", "date_field": "last_login"}, "action"),  # accounts: warn-then-delete only
        ({"action": RetentionAction.ACCOUNT_FLOW}, "action"),
    ],
)
@pytest.mark.django_db
def test_a_policy_the_nightly_run_could_not_apply_is_refused(changes, field):
    with pytest.raises(ValidationError) as caught:
        _policy(**changes).full_clean()
    assert field in caught.value.message_dict


@pytest.mark.django_db
def test_sound_policies_are_accepted():
    _policy().full_clean()
    _policy(action=RetentionAction.NULL, fields=["ip_address"], filters={"path__startswith": "/"}).full_clean()
    _policy(dataset="auth.User", date_field="last_login", action=RetentionAction.ACCOUNT_FLOW).full_clean()


@pytest.mark.django_db
def test_admin_form_shows_the_error_and_saves_nothing(client, staff_user):
    client.force_login(staff_user)
    data = {
        "name": "logs",
        "description": "",
        "dataset": "demo.TrafficLog",
        "enabled": "on",
        "period": 90,
        "period_unit": "days",
        "date_field": "visited",
        "filters": "{}",
        "action": "delete",
        "fields": "[]",
        "legal_basis": "",
    }
    response = client.post("/admin/retention/retentionpolicy/add/", data)
    assert response.status_code == 200 and "This dataset has no such field." in response.content.decode()
    assert not RetentionPolicy.objects.filter(name="logs").exists()


@pytest.mark.django_db
def test_run_reports_cannot_be_deleted_even_by_a_superuser(client, staff_user):
    run = RetentionRun.objects.create(started_at=timezone.now() - timedelta(hours=1), now=timezone.now())
    client.force_login(staff_user)
    assert client.post(f"/admin/retention/retentionrun/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert RetentionRun.objects.filter(pk=run.pk).exists()
