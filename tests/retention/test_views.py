"""Admin shows policies and run reports; a staff edit marks a seeded policy as customised."""

from retention.enforcement import enforce_retention
from retention.models import RetentionPolicy


def test_admin_shows_run_report_and_policies(client, staff_user, sample_policy, make_samples):
    make_samples(3)
    run = enforce_retention()
    client.force_login(staff_user)
    assert "3 / 3 / 0 / 0" in client.get("/admin/retention/retentionrun/").content.decode()
    detail = client.get(f"/admin/retention/retentionrun/{run.pk}/change/").content.decode()
    # The dataset by its name, never its model label; the action and duration in words.
    assert "samples" in detail and "Sweep samples" in detail and "retention.SweepSample" not in detail
    assert "Delete rows" in detail and " s</td>" in detail
    assert client.get("/admin/retention/retentionpolicy/").status_code == 200


def test_staff_edit_is_kept_as_customised(client, staff_user, sample_policy):
    sample_policy.source = "registry"
    sample_policy.save()
    client.force_login(staff_user)
    response = client.post(
        f"/admin/retention/retentionpolicy/{sample_policy.pk}/change/",
        {
            "name": "samples",
            "description": "",
            "dataset": "retention.SweepSample",
            "enabled": "on",
            "period": "45",
            "period_unit": "days",
            "date_field": "created_at",
            "filters": "{}",
            "action": "delete",
            "fields": "[]",
            "legal_basis": "Test",
        },  # fmt: skip
    )
    assert response.status_code == 302
    policy = RetentionPolicy.objects.get(pk=sample_policy.pk)
    assert (policy.period, policy.customised) == (45, True)
