"""Staff edit the organisation's details in admin, through the same service as everything else."""

import pytest
from django.core.cache import cache

from core.models import Organisation
from core.selectors import ORGANISATION_CACHE_KEY, get_organisation

pytestmark = pytest.mark.django_db


def _form(org: Organisation, **changes) -> dict:
    fields = (
        "name",
        "legal_name",
        "postal_address",
        "contact_email",
        "dpo_name",
        "dpo_email",
        "supervisory_authority_name",
        "supervisory_authority_url",
        "supervisory_authority_email",
    )
    return {**{f: getattr(org, f) for f in fields}, **changes}


def test_admin_edit_drops_the_cached_copy_after_commit(client, staff_user, django_capture_on_commit_callbacks):
    org = get_organisation()
    client.force_login(staff_user)
    url = f"/admin/core/organisation/{org.pk}/change/"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, _form(org, name="Acme Widgets"))
        assert response.status_code == 302
        # A page served while the change was not yet committed caches the old details again.
        cache.set(ORGANISATION_CACHE_KEY, Organisation(pk=org.pk, name="stale"))
    for callback in callbacks:
        callback()
    assert get_organisation().name == "Acme Widgets"


def test_admin_edit_of_the_organisation_is_in_the_audit_trail(client, staff_user):
    from audit.models import AuditEvent

    org = get_organisation()
    old_name = org.name
    client.force_login(staff_user)
    client.post(f"/admin/core/organisation/{org.pk}/change/", _form(org, name="Acme Widgets"))
    event = AuditEvent.objects.get(verb="organisation_changed")
    assert (event.actor, event.old, event.new) == (staff_user, {"name": old_name}, {"name": "Acme Widgets"})
    trail = client.get(f"/admin/core/organisation/{org.pk}/audit/")
    assert trail.status_code == 200 and "organisation details changed" in trail.content.decode()
