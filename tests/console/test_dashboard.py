"""The admin home is a dashboard: each figure counts the rows of the list it links to."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from consent.models import ConsentMethod, ConsentRecord, Property
from consent.services import summarise_consent
from console import selectors
from core.permissions import SUPPORT_AGENT
from fulfilment.models import DataExport, ErasureRun, SystemTask
from registry.models import LegalHold
from requests_app import services as request_services
from requests_app.models import DataRequest, RequestStatus
from retention.models import RetentionPolicy, RetentionRun, RetentionRunItem, RunStatus

pytestmark = pytest.mark.django_db


def _request(n, *, due_in, status=None, assignee=None):
    dr, _ = request_services.submit_request(
        name=f"Requester {n}",
        email=f"requester{n}@example.com",
        kind="erasure",
        jurisdiction="gdpr",
        relationship="customer",
        details="",
    )
    DataRequest.objects.filter(pk=dr.pk).update(
        due_at=timezone.now() + timedelta(days=due_in), status=status or dr.status, assignee=assignee
    )
    return dr


@pytest.fixture
def busy_portal(staff_user):
    """Requests of every urgency, failed and held-up jobs, holds, a retention run and consent choices."""
    for n, due_in in enumerate((-3, -1, 2, 6, 20, 40)):
        _request(n, due_in=due_in, assignee=staff_user if n % 2 else None)
    _request(10, due_in=-9, status=RequestStatus.COMPLETED)
    runs = [_request(20 + n, due_in=10) for n in range(4)]
    ErasureRun.objects.create(data_request=runs[0], state=ErasureRun.State.PREVIEWED)
    ErasureRun.objects.create(data_request=runs[1], state=ErasureRun.State.FAILED, error="boom")
    ErasureRun.objects.create(data_request=runs[2], state=ErasureRun.State.RUNNING, error="Legacy shop: timeout")
    DataExport.objects.create(data_request=runs[3], state=DataExport.State.FAILED, error="disk full")
    DataExport.objects.create(data_request=runs[3], state=DataExport.State.PENDING, error="CRM: refused")
    for key, kind, state in (
        ("crm", "manual", "waiting"),
        ("erp", "manual", "sent"),
        ("api", "http", "waiting"),
        ("old", "manual", "failed"),
        ("ok", "manual", "done"),
    ):
        SystemTask.objects.create(
            data_request=runs[0], system_key=key, system_name=key, kind=kind, action="erase", state=state
        )
    LegalHold.objects.create(email="held@example.com", reason="Litigation")
    policy = RetentionPolicy.objects.create(
        name="server logs", dataset="demo.TrafficLog", period=90, date_field="created_at", action="delete"
    )
    now = timezone.now()
    run = RetentionRun.objects.create(status=RunStatus.FAILED, now=now)
    RetentionRunItem.objects.create(
        run=run,
        policy=policy,
        policy_name=policy.name,
        dataset="demo.TrafficLog",
        action="delete",
        status="failed",
        matched=7,
        deleted=5,
    )
    prop = Property.objects.create(name="Shop", allowed_origins="https://shop.example.com")
    import uuid

    for method, n in ((ConsentMethod.ACCEPT_ALL, 3), (ConsentMethod.REJECT_ALL, 1), (ConsentMethod.GPC, 1)):
        for _ in range(n):
            ConsentRecord.objects.create(consent_id=uuid.uuid4(), property=prop, revision=1, choices={}, method=method)
    summarise_consent()  # the dashboard reads the daily figures
    return {"policy": policy, "run": run, "property": prop}


def _figures(dash):
    for section in [*dash["requests"], dash["officer"], dash["jobs"]]:
        yield from section.figures


def test_every_figure_links_to_a_list_of_that_many_rows(busy_portal, staff_user, client):
    dash = selectors.dashboard(user=staff_user)
    counts = {f.label: f.count for f in dash["requests"][0].figures}
    assert counts == {"Overdue": 2, "Due this week": 2, "Due later": 6, "All open": 10}
    mine = {f.label: f.count for f in dash["requests"][1].figures}
    assert mine == {"Overdue": 1, "Due this week": 1, "Due later": 1, "All open": 3}
    client.force_login(staff_user)
    checked = 0
    for f in _figures(dash):
        page = client.get(f.url)
        assert page.status_code == 200, f.url
        assert page.context["cl"].result_count == f.count, (f.label, f.url)
        checked += 1
    assert checked >= 17
    jobs = {f.label: f.count for f in dash["jobs"].figures}
    assert jobs["Erasures waiting on a connected system"] == 1 and jobs["Exports waiting on a connected system"] == 1
    assert jobs["Retention runs with errors"] == 1 and jobs["Erasures failed"] == 1
    assert jobs["Tasks waiting on system owners"] == 2 and jobs["System tasks that could not be done"] == 1
    officer = {f.label: f.count for f in dash["officer"].figures}
    assert officer["Erasures to approve"] == 1 and officer["Legal holds not released, to review"] == 1


def test_consent_rates_and_their_lists(busy_portal, staff_user, client):
    (row,) = selectors.consent_rates(user=staff_user, now=timezone.now())
    shares = {o["key"]: (o["count"], o["percent"]) for o in row["outcomes"]}
    assert shares == {"accept_all": (3, 60), "reject_all": (1, 20), "custom": (0, 0), "gpc": (1, 20)}
    assert row["outcomes"][1]["x"] == 60.0 and row["outcomes"][3]["x"] == 80.0
    client.force_login(staff_user)
    for o in row["outcomes"]:
        assert client.get(o["url"]).context["cl"].result_count == o["count"]


def test_last_run_per_policy(busy_portal, staff_user):
    (row,) = [r for r in selectors.last_retention_runs(user=staff_user) if r["policy"] == busy_portal["policy"]]
    assert row["item"].matched == 7 and row["item"].run == busy_portal["run"]
    later = RetentionRun.objects.create(status=RunStatus.COMPLETED, now=timezone.now(), dry_run=True)
    RetentionRunItem.objects.create(
        run=later,
        policy=busy_portal["policy"],
        policy_name="server logs",
        dataset="demo.TrafficLog",
        action="delete",
        status="done",
        matched=2,
    )
    (row,) = [r for r in selectors.last_retention_runs(user=staff_user) if r["policy"] == busy_portal["policy"]]
    assert row["item"].run == later and str(later.pk) in row["url"]


def test_the_admin_home_shows_the_dashboard_and_keeps_the_app_list(busy_portal, staff_user, client):
    client.force_login(staff_user)
    html = client.get("/admin/").content.decode()
    assert "Everyone&#x27;s open requests" in html or "Everyone's open requests" in html
    assert "?due=overdue" in html and "?due=overdue&amp;mine=1" in html
    assert "/admin/requests_app/datarequest/" in html and 'id="content-main"' in html
    assert "server logs" in html and "Shop" in html and "<svg" in html
    assert "app-requests_app" in html  # the stock app list is still below


def test_staff_see_only_what_their_role_may_open(busy_portal, user_factory):
    agent = user_factory(is_staff=True, email="support@example.com")
    agent.groups.add(Group.objects.get(name=SUPPORT_AGENT))
    dash = selectors.dashboard(user=agent)
    assert dash["requests"]
    assert not dash["consent"] or agent.has_perm("consent.view_consentrecord")
    nobody = user_factory(is_staff=True, email="nobody@example.com")
    empty = selectors.dashboard(user=nobody)
    assert empty["requests"] == [] and empty["officer"] is None and empty["jobs"] is None and empty["consent"] == []


def test_the_dashboard_says_which_policy_in_force_promises_another_retention_period(staff_user, client):
    from policies.models import DocumentKind
    from policies.services import create_version, ensure_document, publish_version

    RetentionPolicy.objects.update_or_create(
        name="traffic-logs",
        defaults={"dataset": "demo.TrafficLog", "period": 90, "date_field": "created_at", "action": "delete"},
    )
    document = ensure_document(kind=DocumentKind.PRIVACY, title="Privacy policy")
    version = publish_version(
        version=create_version(document=document, body="Server logs are deleted after 60 days.", summary="")
    )
    client.force_login(staff_user)
    html = client.get("/admin/").content.decode()
    assert "Privacy policy v1 says 60 days for Traffic logs; 90 days enforced" in html
    assert f"/admin/policies/policyversion/{version.pk}/change/" in html
