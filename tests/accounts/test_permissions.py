import pytest
from django.contrib.auth.models import Group

from core.permissions import PRIVACY_OFFICER, SUPPORT_AGENT, permitted, sync_group_permissions

pytestmark = pytest.mark.django_db


def _codes(name):
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name=name).permissions.select_related("content_type")
    }


@pytest.mark.smoke
def test_staff_groups_exist_with_least_privilege_permissions():
    officer, agent = _codes(PRIVACY_OFFICER), _codes(SUPPORT_AGENT)
    # The officer runs policies and the organisation's details, but cannot rewrite evidence.
    assert {"policies.add_policyversion", "policies.change_policyversion", "core.change_organisation"} <= officer
    assert (
        not {"policies.delete_policyacceptance", "policies.change_policyevent", "policies.delete_policyevent"} & officer
    )
    assert "auth.change_user" not in officer and "auth.add_group" not in officer
    # The agent can look, not change, outside the request queue.
    assert {"policies.view_policyversion", "core.view_organisation"} <= agent
    assert not {p for p in agent if not p.split(".")[1].startswith("view_") and not p.startswith("requests_app.")}


def test_declared_map_covers_models_that_arrive_later():
    assert permitted(SUPPORT_AGENT, "requests_app", "change_datarequest")
    assert not permitted(SUPPORT_AGENT, "requests_app", "delete_datarequest")
    assert not permitted(SUPPORT_AGENT, "requests_app", "change_requestevent")
    assert permitted(SUPPORT_AGENT, "consent", "view_consentrecord")
    assert not permitted(SUPPORT_AGENT, "consent", "change_property")
    assert permitted(PRIVACY_OFFICER, "retention", "delete_retentionpolicy")
    assert permitted(PRIVACY_OFFICER, "consent", "add_consentrecord")
    assert not permitted(PRIVACY_OFFICER, "consent", "delete_consentrecord")
    assert not permitted(PRIVACY_OFFICER, "auth", "change_user")


def test_sync_restores_permissions_changed_by_hand():
    group = Group.objects.get(name=SUPPORT_AGENT)
    group.permissions.clear()
    Group.objects.get(name=PRIVACY_OFFICER).delete()
    sync_group_permissions()
    assert "policies.view_policyversion" in _codes(SUPPORT_AGENT)
    assert "policies.add_policyversion" in _codes(PRIVACY_OFFICER)
