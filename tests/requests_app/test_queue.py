"""The request queue: open and most urgent first, urgency and "mine" filters, bulk assign, Start work."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from audit.models import AuditEvent
from core.permissions import SUPPORT_AGENT
from requests_app import selectors, services
from requests_app.models import DataRequest, RequestStatus

pytestmark = pytest.mark.django_db
QUEUE = "/admin/requests_app/datarequest/"


def _due_in(data_request, days):
    DataRequest.objects.filter(pk=data_request.pk).update(due_at=timezone.now() + timedelta(days=days))
    data_request.refresh_from_db()
    return data_request


@pytest.fixture
def support_agent(user_factory):
    user = user_factory(is_staff=True, email="support@example.com")
    user.groups.add(Group.objects.get(name=SUPPORT_AGENT))
    return user


def test_urgency_counts_match_the_queue_filters(make_request, staff_user, agent, client):
    overdue, soon, later = make_request(), make_request(), make_request()
    _due_in(overdue, -2), _due_in(soon, 2), _due_in(later, 20)
    mine = _due_in(make_request(), -1)
    services.assign_request(data_request=mine, assignee=agent, actor=staff_user)
    closed = _due_in(make_request(), -5)
    DataRequest.objects.filter(pk=closed.pk).update(status=RequestStatus.COMPLETED)

    counts = selectors.urgency_counts(user=agent)
    assert counts["all"] == {"open": 4, "overdue": 2, "week": 1, "later": 1}
    assert counts["mine"] == {"open": 1, "overdue": 1, "week": 0, "later": 0}

    client.force_login(staff_user)
    page = client.get(QUEUE, {"due": "overdue"})
    assert page.context["cl"].result_count == 2
    assert {r.pk for r in page.context["cl"].result_list} == {overdue.pk, mine.pk}
    assert page.context["cl"].result_count == counts["all"]["overdue"]
    assert client.get(QUEUE, {"due": "week"}).context["cl"].result_count == 1
    assert client.get(QUEUE, {"due": "later"}).context["cl"].result_count == 1


def test_the_queue_opens_on_open_requests_most_urgent_first_with_counts(make_request, staff_user, client):
    a, b, c = _due_in(make_request(), 9), _due_in(make_request(), -3), _due_in(make_request(), 1)
    done = _due_in(make_request(), -30)
    DataRequest.objects.filter(pk=done.pk).update(status=RequestStatus.DENIED)
    client.force_login(staff_user)

    page = client.get(QUEUE)
    assert [r.pk for r in page.context["cl"].result_list] == [b.pk, c.pk, a.pk]
    html = page.content.decode()
    assert "Open (3)" in html and "Denied (1)" in html and "All (4)" in html
    assert "dsr-overdue" in html and "dsr-due-soon" in html and "dsr-due-later" in html
    assert done.reference in client.get(QUEUE, {"status": "all"}).content.decode()
    assert client.get(QUEUE, {"status": "denied"}).context["cl"].result_count == 1
    # Search by reference still works from the default view, for closed requests too.
    assert client.get(QUEUE, {"q": a.reference}).context["cl"].result_count == 1
    assert [r.pk for r in client.get(QUEUE, {"q": done.reference}).context["cl"].result_list] == [done.pk]
    assert client.get(QUEUE, {"q": done.reference, "status": "open"}).context["cl"].result_count == 0


def test_mine_filter_lists_only_the_persons_requests(make_request, staff_user, client):
    mine, other = make_request(), make_request()
    services.assign_request(data_request=mine, assignee=staff_user, actor=staff_user)
    client.force_login(staff_user)
    assert [r.pk for r in client.get(QUEUE, {"mine": "1"}).context["cl"].result_list] == [mine.pk]
    assert [r.pk for r in client.get(QUEUE, {"mine": "none"}).context["cl"].result_list] == [other.pk]


def test_bulk_assign_writes_the_trail_and_needs_the_change_permission(make_request, staff_user, agent, user_factory):
    one, two = make_request(), make_request()
    n = services.assign_requests(data_requests=[one, two], assignee=agent, actor=staff_user)
    assert n == 2
    assert set(DataRequest.objects.filter(assignee=agent).values_list("pk", flat=True)) == {one.pk, two.pk}
    assert (
        AuditEvent.objects.filter(
            request_reference__in=[one.reference, two.reference], verb="assigned", actor=staff_user
        ).count()
        == 2
    )
    viewer = user_factory(is_staff=True, email="viewer@example.com")
    with pytest.raises(PermissionDenied):
        services.assign_requests(data_requests=[one], assignee=viewer, actor=viewer)


def test_bulk_assign_action_confirms_then_assigns(make_request, staff_user, agent, client):
    one, two = make_request(), make_request()
    client.force_login(staff_user)
    picked = {"action": "assign_to", "_selected_action": [one.pk, two.pk]}
    confirm = client.post(QUEUE, {**picked, "index": "0"})
    assert confirm.status_code == 200 and one.reference in confirm.content.decode()
    assert not DataRequest.objects.filter(assignee=agent).exists()  # nothing changes before confirming
    client.post(QUEUE, {**picked, "assignee": agent.pk})
    assert DataRequest.objects.filter(assignee=agent).count() == 2


def test_start_work_assigns_the_request_to_whoever_starts_it(make_request, staff_user, support_agent, client):
    dr = services.verify_request(data_request=make_request(), actor=staff_user)
    services.assign_request(data_request=dr, assignee=staff_user, actor=staff_user)
    client.force_login(support_agent)
    assert "assigned to you" in client.get(f"{QUEUE}{dr.pk}/workflow/start/").content.decode()
    client.post(f"{QUEUE}{dr.pk}/workflow/start/")
    dr.refresh_from_db()
    assert dr.status == RequestStatus.IN_PROGRESS and dr.assignee == support_agent


def test_extend_shows_the_new_due_date_before_confirming(make_request, staff_user, client):
    dr = services.verify_request(data_request=make_request(), actor=staff_user)
    new_due = services.extended_due_date(data_request=dr)
    assert new_due > dr.due_date
    client.force_login(staff_user)
    page = client.get(f"{QUEUE}{dr.pk}/workflow/extend/").content.decode()
    from django.utils.formats import date_format

    assert date_format(new_due, "DATE_FORMAT") in page
    dr.refresh_from_db()
    assert dr.extended_at is None
    services.extend_deadline(data_request=dr, reason="Complex request.", actor=staff_user)
    dr.refresh_from_db()
    assert dr.due_date == new_due
    # Taken once, or under a law with no extension: the page says so instead of failing.
    assert services.extended_due_date(data_request=dr) is None
    page = client.get(f"{QUEUE}{dr.pk}/workflow/extend/")
    assert page.status_code == 200 and "gives no extension" in page.content.decode()
    assert 'name="reason"' not in page.content.decode()  # nothing to confirm
    elsewhere = services.verify_request(data_request=make_request(jurisdiction="lgpd"), actor=staff_user)
    assert client.get(f"{QUEUE}{elsewhere.pk}/workflow/extend/").status_code == 200
