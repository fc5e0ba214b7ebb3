"""The trail in admin: privacy officers filter all of it in staff language; support agents cannot open it."""

import pytest
from django.contrib.auth.models import Group

from audit.services import Actor, record_event
from policies.models import PolicyDocument, PolicyVersion
from tests.audit.helpers import officer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    document = PolicyDocument.objects.create(kind="privacy", title="Privacy policy")
    return PolicyVersion.objects.create(document=document, number=1, body="# Policy")


def test_privacy_officers_filter_the_whole_trail_in_staff_language(client, version):
    record_event(actor=Actor.system("policy schedule"), obj=version, verb="in_force", old="scheduled", new="in_force")
    record_event(actor=None, obj=version, verb="edited", request_reference="DSR-2026-000042")
    client.force_login(officer())
    page = client.get("/admin/audit/auditevent/").content.decode()
    assert "Came into force" in page and "Privacy policy v1" in page
    assert "in_force</td>" not in page  # verbs as words, not slugs
    assert "Policy version" in page  # kinds of record by their names
    came = '<td class="field-what">Came into force</td>'
    by_job = client.get("/admin/audit/auditevent/?actor_kind=system&verb=in_force").content.decode()
    assert came in by_job and '<td class="field-what">Edited</td>' not in by_job
    found = client.get("/admin/audit/auditevent/?q=DSR-2026-000042").content.decode()
    assert "DSR-2026-000042" in found and came not in found
    dated = client.get(
        "/admin/audit/auditevent/?created_at__gte=2000-01-01+00:00:00%2B00:00&created_at__lt=2000-01-02+00:00:00%2B00:00"
    )
    assert dated.status_code == 200 and came not in dated.content.decode()


def test_the_trail_is_read_only_and_closed_to_support_agents(client, version):
    event = record_event(actor=None, obj=version, verb="edited")
    client.force_login(officer())
    assert client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200
    assert client.post(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    agent = UserFactory(is_staff=True, email="agent@example.com")
    agent.groups.add(Group.objects.get(name="Support agent"))
    client.force_login(agent)
    assert client.get("/admin/audit/auditevent/").status_code == 403


def test_an_audited_record_links_to_its_own_trail(client, version):
    record_event(actor=None, obj=version, verb="edited", old={"summary": "a"}, new={"summary": "b"})
    client.force_login(officer())
    change = client.get(f"/admin/policies/policyversion/{version.pk}/change/").content.decode()
    assert f"/admin/policies/policyversion/{version.pk}/audit/" in change
    trail = client.get(f"/admin/policies/policyversion/{version.pk}/audit/").content.decode()
    assert "Edited" in trail and "Summary of changes: a → b" in trail


def test_stored_enum_values_read_as_their_labels(client, version):
    record_event(actor=None, obj=version, verb="in_force", old="scheduled", new="in_force")
    record_event(actor=None, obj=version, verb="edited", old={"status": "draft"}, new={"status": "superseded"})
    client.force_login(officer())
    trail = client.get(f"/admin/policies/policyversion/{version.pk}/audit/").content.decode()
    assert "Scheduled → In force" in trail and "Status: Draft → Superseded" in trail


def test_the_unfiltered_trail_is_counted_from_the_estimate_on_postgresql(client, version, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from audit.admin import EstimatedCountPaginator

    if connection.vendor != "postgresql":
        pytest.skip("the planner's row estimate is PostgreSQL's")
    for _ in range(30):
        record_event(actor=None, obj=version, verb="edited")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")
    monkeypatch.setattr(EstimatedCountPaginator, "estimate_above", 10)
    client.force_login(officer())
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/admin/audit/auditevent/").status_code == 200
    counts = [q["sql"] for q in captured if "COUNT(*)" in q["sql"] and "audit_auditevent" in q["sql"]]
    assert counts == [] and any("reltuples" in q["sql"] for q in captured)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/admin/audit/auditevent/?verb=edited").status_code == 200
    assert any("COUNT(*)" in q["sql"] for q in captured)  # a filtered list is counted exactly
