from datetime import timedelta

import pytest
from django.utils import timezone

from policies.models import ChangeNotice, PolicyVersion, VersionStatus

pytestmark = pytest.mark.django_db


def test_staff_drafts_and_publishes_a_version_in_admin(client, staff_user, privacy_document, in_force_v1):
    client.force_login(staff_user)
    response = client.post(
        "/admin/policies/policyversion/add/",
        {
            "document": privacy_document.pk,
            "body": "# Policy\n\nShorter retention.",
            "summary": "Shorter retention.",
            "effective_at_0": "",
            "effective_at_1": "",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    draft = PolicyVersion.objects.get(number=2)
    assert draft.status == VersionStatus.DRAFT and draft.created_by == staff_user
    assert draft.events.filter(verb="created", actor=staff_user).exists()

    client.post(
        "/admin/policies/policyversion/",
        {"action": "publish_selected", "_selected_action": [draft.pk]},
    )
    draft.refresh_from_db()
    in_force_v1.refresh_from_db()
    assert (draft.status, in_force_v1.status) == (VersionStatus.IN_FORCE, VersionStatus.SUPERSEDED)
    page = client.get(f"/admin/policies/policyversion/{draft.pk}/change/").content.decode()
    assert 'name="body"' not in page  # published text is read-only


def test_admin_refuses_material_publish_without_future_date_and_shows_notice_progress(
    client, staff_user, make_version, in_force_v1, user_factory
):
    client.force_login(staff_user)
    material = make_version("# Policy\n\nSharing.", is_material=True)
    response = client.post(
        "/admin/policies/policyversion/",
        {"action": "publish_selected", "_selected_action": [material.pk]},
        follow=True,
    )
    assert "must take effect in the future" in response.content.decode()
    material.effective_at = timezone.now() + timedelta(days=7)
    material.save()
    client.post("/admin/policies/policyversion/", {"action": "publish_selected", "_selected_action": [material.pk]})
    notice = ChangeNotice.objects.get(version=material)
    assert client.get("/admin/policies/changenotice/").status_code == 200
    # A notice's own page is its report on the version.
    assert client.get(f"/admin/policies/changenotice/{notice.pk}/change/", follow=True).status_code == 200
    listing = client.get("/admin/policies/policyversion/").content.decode()
    assert "Queued: 0 of 0 told" in listing  # the batches run after commit
    for url in (
        "/admin/policies/policyacceptance/",
        f"/admin/policies/policyversion/{material.pk}/audit/",
        "/admin/policies/noticedelivery/",
    ):
        assert client.get(url).status_code == 200


def test_staff_preview_a_draft_as_readers_will_see_it_with_its_changes(client, staff_user, make_version, in_force_v1):
    draft = make_version("# Policy\n\nWe keep your e-mail address **and phone number**.\n\n<script>alert(1)</script>")
    client.force_login(staff_user)
    html = client.get(f"/admin/policies/policyversion/{draft.pk}/change/").content.decode()
    preview = html[html.index('class="policy-admin-preview"') :]
    assert "<strong>and phone number</strong>" in preview and "<script>alert(1)" not in preview
    assert f"Changes against version {in_force_v1.number}" in preview
    assert "<ins>" in preview  # the words added since the version in force are marked
    assert "policies/policies.css" in html
