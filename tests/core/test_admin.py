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
