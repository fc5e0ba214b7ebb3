"""After a workflow step on a request, staff read what it changed in a sentence, not "Complete: done for DSR-…"."""

import pytest
from django.utils.formats import date_format
from django.utils.timezone import localtime

from tests.requests_app.test_admin_audit import officer_client  # noqa: F401

pytestmark = pytest.mark.django_db


def _said(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_workflow_steps_say_what_they_changed(
    officer_client,  # noqa: F811
    make_request,
    django_capture_on_commit_callbacks,
):
    dr = make_request(email="sam@example.com", kind="access")
    base = f"/admin/requests_app/datarequest/{dr.pk}/workflow/"
    with django_capture_on_commit_callbacks(execute=True):
        verified = officer_client.post(base + "verify/", follow=True)
        extended = officer_client.post(base + "extend/", {"reason": "Many systems to search."}, follow=True)
        completed = officer_client.post(base + "complete/", {"summary": "Sent the export."}, follow=True)
    dr.refresh_from_db()
    assert _said(verified) == [f"{dr.reference} is verified: work on it can start."]
    assert _said(extended) == [
        f"The deadline of {dr.reference} is now {date_format(localtime(dr.due_at), 'DATE_FORMAT')}."
    ]
    assert _said(completed) == [f"{dr.reference} is completed."]
    assert not any("done for" in m for m in _said(completed))
