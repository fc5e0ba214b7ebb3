"""Read-only staff may look at holds, restrictions and exports, never act on them."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

from core.permissions import PRIVACY_OFFICER, SUPPORT_AGENT, sync_group_permissions
from fulfilment import services
from fulfilment.models import DataExport
from registry import services as registry_services
from registry.models import LegalHold, ProcessingRestriction


@pytest.fixture
def staff_in(db, user_factory):
    sync_group_permissions()

    def make(group=None):
        member = user_factory(is_staff=True)
        if group:
            member.groups.add(Group.objects.get(name=group))
        return member

    return make


def _post_action(client, model, action, pk):
    return client.post(f"/admin/registry/{model}/", {"action": action, "_selected_action": [pk]})


def test_a_support_agent_cannot_release_a_hold_or_lift_a_restriction(client, staff_in, user_factory):
    subject = user_factory()
    hold = registry_services.place_legal_hold(reason="Pending litigation", user=subject)
    restriction = ProcessingRestriction.objects.create(
        user=subject, email=subject.email, kind=ProcessingRestriction.Kind.OBJECTION, purposes=["marketing"]
    )
    agent = staff_in(SUPPORT_AGENT)
    client.force_login(agent)
    holds = client.get("/admin/registry/legalhold/")
    assert holds.status_code == 200 and 'value="release"' not in holds.content.decode()
    _post_action(client, "legalhold", "release", hold.pk)
    _post_action(client, "processingrestriction", "lift", restriction.pk)
    hold.refresh_from_db()
    restriction.refresh_from_db()
    assert hold.released_at is None and restriction.lifted_at is None
    with pytest.raises(PermissionDenied):
        registry_services.release_legal_hold(hold=hold, actor=agent)
    with pytest.raises(PermissionDenied):
        services.lift_restriction(restriction=restriction, actor=agent)


def test_a_privacy_officer_releases_a_hold_and_is_recorded(client, staff_in, user_factory):
    hold = registry_services.place_legal_hold(reason="Tax audit", user=user_factory())
    officer = staff_in(PRIVACY_OFFICER)
    client.force_login(officer)
    _post_action(client, "legalhold", "release", hold.pk)
    hold.refresh_from_db()
    assert hold.released_at is not None and hold.released_by == officer
    assert not LegalHold.objects.filter(pk=hold.pk, released_by__isnull=True).exists()


def test_staff_without_change_rights_cannot_start_an_export(client, staff_in, user_factory, verified_request_for):
    data_request = verified_request_for(user_factory())
    DataExport.objects.filter(data_request=data_request).delete()
    client.force_login(staff_in())  # staff, in no group
    assert client.post(f"/privacy/data/staff/requests/{data_request.pk}/export/").status_code == 403
    assert not DataExport.objects.filter(data_request=data_request).exists()


def _staff_pages(data_request_for_kind) -> list[str]:
    return [
        f"/privacy/data/staff/requests/{data_request_for_kind['rectification'].pk}/rectify/",
        f"/privacy/data/staff/requests/{data_request_for_kind['erasure'].pk}/erasure/",
        f"/privacy/data/staff/requests/{data_request_for_kind['access'].pk}/export/",
        "/privacy/data/staff/record-of-processing.csv",
        "/admin/registry/recordofprocessing/",
        "/admin/fulfilment/fulfilmentqueue/",
    ]


@pytest.fixture
def requests_by_kind(user_factory, verified_request_for):
    return {kind: verified_request_for(user_factory(), kind=kind) for kind in ("rectification", "erasure", "access")}


def test_staff_in_no_group_get_403_on_every_registry_staff_page(client, staff_in, requests_by_kind):
    client.force_login(staff_in())
    for url in _staff_pages(requests_by_kind):
        assert client.get(url).status_code == 403, url
    rectification = requests_by_kind["rectification"]
    before = rectification.user.last_name
    client.post(
        f"/privacy/data/staff/requests/{rectification.pk}/rectify/",
        {"dataset": "auth.User", "pk": rectification.user.pk, "field": "last_name", "value": "Changed"},
    )
    rectification.user.refresh_from_db()
    assert rectification.user.last_name == before


def test_a_privacy_officer_opens_every_registry_staff_page(client, staff_in, requests_by_kind):
    client.force_login(staff_in(PRIVACY_OFFICER))
    for url in _staff_pages(requests_by_kind):
        assert client.get(url).status_code == 200, url


def test_registry_services_refuse_staff_without_the_permission(staff_in, requests_by_kind):
    nobody = staff_in()
    with pytest.raises(PermissionDenied):
        services.rectify_field(
            data_request=requests_by_kind["rectification"],
            actor=nobody,
            dataset="auth.User",
            pk=requests_by_kind["rectification"].user.pk,
            field="last_name",
            value="Changed",
        )
    with pytest.raises(PermissionDenied):
        services.start_export(data_request=requests_by_kind["access"], actor=nobody)
    erasure = requests_by_kind["erasure"]
    services.preview_erasure(data_request=erasure)
    with pytest.raises(PermissionDenied):
        services.approve_erasure(data_request=erasure, actor=nobody)
    with pytest.raises(PermissionDenied):
        services.approve_erasure(data_request=erasure, actor=staff_in(SUPPORT_AGENT))
