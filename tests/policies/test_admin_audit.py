"""Every admin path that changes a policy writes the audit trail, with the staff member and the old and new values."""

import pytest

from audit.models import ActorKind, AuditEvent
from audit.selectors import list_object_events
from policies.models import PolicyVersion, VersionStatus
from tests.audit.helpers import change_form_data, officer

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_client(client):
    user = officer()
    client.force_login(user)
    client.user = user
    return client


def test_draft_edit_publish_action_and_delete_in_admin_are_audited(officer_client, make_version, in_force_v1):
    draft = make_version("# Policy\n\nOld words.")
    url = f"/admin/policies/policyversion/{draft.pk}/change/"
    data = change_form_data(officer_client.get(url), body="# Policy\n\nNew words.")
    assert officer_client.post(url, data).status_code == 302
    edited = draft.events.get(verb="edited")
    assert (edited.actor, edited.actor_kind) == (officer_client.user, ActorKind.STAFF)
    assert (edited.old, edited.new) == ({"body": "# Policy\n\nOld words."}, {"body": "# Policy\n\nNew words."})

    officer_client.post(
        "/admin/policies/policyversion/", {"action": "publish_selected", "_selected_action": [draft.pk]}
    )
    draft.refresh_from_db()
    assert draft.status == VersionStatus.IN_FORCE
    assert draft.events.filter(verb="in_force", actor=officer_client.user, old="draft", new="in_force").exists()
    assert in_force_v1.events.filter(verb="superseded", actor=officer_client.user).exists()

    spare = make_version("# Policy\n\nNot needed after all.")
    pk = spare.pk
    response = officer_client.post(f"/admin/policies/policyversion/{pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not PolicyVersion.objects.filter(pk=pk).exists()
    deleted = AuditEvent.objects.get(verb="deleted", object_id=str(pk), content_type=edited.content_type)
    assert deleted.actor == officer_client.user and deleted.old["body"] == "# Policy\n\nNot needed after all."


def test_document_title_edit_in_admin_is_audited(officer_client, privacy_document):
    url = f"/admin/policies/policydocument/{privacy_document.pk}/change/"
    old_title = privacy_document.title
    response = officer_client.post(url, change_form_data(officer_client.get(url), title="How we use your data"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = list_object_events(obj=privacy_document).get(verb="edited")
    assert event.actor == officer_client.user
    assert (event.old, event.new) == ({"title": old_title}, {"title": "How we use your data"})
