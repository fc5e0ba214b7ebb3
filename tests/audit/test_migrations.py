"""An upgrade from the previous release moves the request and policy trails into the audit trail, losing nothing."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("requests_app", "0005_release_approval"), ("policies", "0001_initial"), ("audit", None)]
WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_upgrade_moves_request_and_policy_events_into_the_audit_trail():
    latest = _latest()
    old = _migrate(BEFORE)
    User = old.get_model("auth", "User")
    staff = User.objects.create(username="agent", email="agent@example.com", is_staff=True)
    DataRequest = old.get_model("requests_app", "DataRequest")
    RequestEvent = old.get_model("requests_app", "RequestEvent")
    dr = DataRequest.objects.create(
        reference="DSR-2026-000007",
        kind="access",
        status="verified",
        requester_name="Avery Example",
        requester_email="avery@example.com",
        jurisdiction="gdpr",
        due_at=WHEN,
    )
    RequestEvent.objects.create(data_request=dr, actor_label="requester", kind="created", new="awaiting_verification")
    RequestEvent.objects.create(
        data_request=dr,
        actor=staff,
        actor_label="agent",
        kind="status",
        old="awaiting_verification",
        new="verified",
        note="Checked by phone",
        created_at=WHEN,
    )
    RequestEvent.objects.create(data_request=dr, actor_label="watchdog", kind="fulfilment", new="resumed")
    Document = old.get_model("policies", "PolicyDocument")
    Version = old.get_model("policies", "PolicyVersion")
    PolicyEvent = old.get_model("policies", "PolicyEvent")
    version = Version.objects.create(document=Document.objects.create(kind="privacy", title="Privacy"), number=3)
    PolicyEvent.objects.create(
        version=version, actor=staff, kind="in_force", old_status="scheduled", new_status="in_force"
    )

    new = _migrate(latest)
    AuditEvent = new.get_model("audit", "AuditEvent")
    trail = list(AuditEvent.objects.filter(request_reference="DSR-2026-000007").order_by("pk"))
    assert [(e.verb, e.actor_kind, e.actor_label, e.old, e.new) for e in trail] == [
        ("created", "requester", "a***@example.com", None, "awaiting_verification"),
        ("status", "staff", "agent", "awaiting_verification", "verified"),
        ("fulfilment", "system", "watchdog", None, "resumed"),
    ]
    status = trail[1]
    assert (status.actor_id, status.note, status.created_at) == (staff.pk, "Checked by phone", WHEN)
    assert {(e.content_type.app_label, e.content_type.model, e.object_id) for e in trail} == {
        ("requests_app", "datarequest", str(dr.pk))
    }
    policy = AuditEvent.objects.get(content_type__model="policyversion")
    assert (policy.object_id, policy.object_label, policy.verb) == (str(version.pk), "Privacy v3", "in_force")
    assert (policy.old, policy.new, policy.actor_id, policy.actor_kind) == ("scheduled", "in_force", staff.pk, "staff")
    # Moved, not copied: nothing is left to diverge from the trail.
    assert not new.get_model("requests_app", "RequestEvent").objects.exists()
    assert not new.get_model("policies", "PolicyEvent").objects.exists()


@pytest.mark.django_db(transaction=True)
def test_downgrade_puts_the_events_back():
    latest = _latest()
    old = _migrate(BEFORE)
    DataRequest = old.get_model("requests_app", "DataRequest")
    dr = DataRequest.objects.create(
        reference="DSR-2026-000008",
        kind="erasure",
        requester_name="Blake Sample",
        requester_email="blake@example.com",
        jurisdiction="gdpr",
        due_at=WHEN,
    )
    old.get_model("requests_app", "RequestEvent").objects.create(data_request=dr, kind="note", note="Called back")
    _migrate(latest)
    again = _migrate(BEFORE)
    back = again.get_model("requests_app", "RequestEvent").objects.get()
    assert (back.data_request_id, back.kind, back.note) == (dr.pk, "note", "Called back")
    _migrate(latest)
