"""Only staff who may change policy versions can publish or unschedule them, in admin and in the service."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

from core.permissions import PRIVACY_OFFICER, SUPPORT_AGENT, sync_group_permissions
from policies.models import VersionStatus
from policies.services import publish_version


@pytest.fixture
def staff_in(user_factory):
    sync_group_permissions()

    def make(group):
        member = user_factory(is_staff=True)
        member.groups.add(Group.objects.get(name=group))
        return member

    return make


def test_a_support_agent_can_read_but_not_publish(client, staff_in, make_version):
    draft = make_version()
    agent = staff_in(SUPPORT_AGENT)
    client.force_login(agent)
    changelist = client.get("/admin/policies/policyversion/")
    assert changelist.status_code == 200 and "publish_selected" not in changelist.content.decode()
    client.post("/admin/policies/policyversion/", {"action": "publish_selected", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
    with pytest.raises(PermissionDenied):
        publish_version(version=draft, actor=agent)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_a_privacy_officer_publishes_from_the_changelist(client, staff_in, make_version):
    draft = make_version()
    client.force_login(staff_in(PRIVACY_OFFICER))
    assert "publish_selected" in client.get("/admin/policies/policyversion/").content.decode()
    client.post("/admin/policies/policyversion/", {"action": "publish_selected", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == VersionStatus.IN_FORCE
