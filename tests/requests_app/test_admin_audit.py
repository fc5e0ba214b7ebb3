"""Every admin path that changes a request writes the audit trail, with the staff member as actor."""

import pytest

from audit.models import ActorKind
from requests_app.models import DataRequest, RequestStatus
from tests.audit.helpers import change_form_data, officer

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client(client):
    user = officer()
    client.force_login(user)
    client.user = user
    return client


def _trail(dr: DataRequest) -> list[tuple]:
    return list(dr.events.values_list("verb", "actor_id", "actor_kind"))


def test_change_form_assignment_and_note_inline_are_audited(officer_client, make_request):
    dr = make_request(email="robin@example.com")
    url = f"/admin/requests_app/datarequest/{dr.pk}/change/"
    data = change_form_data(officer_client.get(url), assignee=str(officer_client.user.pk))
    data.update({"notes-TOTAL_FORMS": "1", "notes-0-body": "Called the requester back.", "notes-0-data_request": dr.pk})
    response = officer_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    me = officer_client.user.pk
    assert ("assigned", me, ActorKind.STAFF) in _trail(dr) and ("note", me, ActorKind.STAFF) in _trail(dr)
    assigned = dr.events.get(verb="assigned")
    assert (assigned.old, assigned.new, assigned.request_reference) == (
        "",
        officer_client.user.username,
        dr.reference,
    )
    page = officer_client.get(url).content.decode()
    assert "Audit trail (read-only)" in page and "Called the requester back." in page
    assert f"/admin/requests_app/datarequest/{dr.pk}/audit/" in page


def test_workflow_steps_and_bulk_actions_are_audited(officer_client, make_request, django_capture_on_commit_callbacks):
    dr = make_request(email="sam@example.com", kind="erasure")
    base = f"/admin/requests_app/datarequest/{dr.pk}/workflow/"
    officer_client.post("/admin/requests_app/datarequest/", {"action": "assign_to_me", "_selected_action": [dr.pk]})
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(base + "verify/")
        officer_client.post(base + "start/")
        officer_client.post(base + "message/", {"body": "We are on it."})
        officer_client.post(base + "extend/", {"reason": "Many systems to search."})
        officer_client.post(base + "complete/", {"summary": "Erased everywhere."})
    dr.refresh_from_db()
    assert dr.status == RequestStatus.COMPLETED
    me = officer_client.user.pk
    steps = [(verb, new) for verb, new, actor in dr.events.values_list("verb", "new", "actor_id") if actor == me]
    assert steps == [
        ("assigned", officer_client.user.username),
        ("status", "verified"),
        ("status", "in_progress"),
        ("message", None),
        ("extended", steps[4][1]),
        ("status", "completed"),
    ]
    extended = dr.events.get(verb="extended")
    assert extended.old and extended.new and extended.note == "Many systems to search."
    trail = officer_client.get(f"/admin/requests_app/datarequest/{dr.pk}/audit/").content.decode()
    assert "Deadline extended" in trail and "Many systems to search." in trail
