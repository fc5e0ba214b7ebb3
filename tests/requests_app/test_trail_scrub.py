"""Erasure takes the subject's data out of their requests' audit trail and keeps what happened."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from requests_app import services
from requests_app.models import DataRequest

pytestmark = pytest.mark.django_db


def test_scrub_masks_diffs_file_names_and_the_subjects_labels_only(make_request, staff_user, user_factory):
    holder = user_factory(email="wil@example.com", username="w.oosterhuizen")
    dr = make_request(
        email="wil@example.com",
        kind="rectification",
        user=holder,
        attachment=SimpleUploadedFile("id-oosterhuizen.pdf", b"%PDF", content_type="application/pdf"),
    )
    services.record_event(dr, actor=staff_user, kind="fulfilment", old="Oosterhuizen", new="Oosterhuizen-Bakker")
    services.post_message(data_request=dr, body="It is me.", author=holder, from_staff=False)
    other = make_request(email="someone@example.com")
    services.verify_request(data_request=other, actor=staff_user)

    changed = services.scrub_request_trail(data_requests=DataRequest.objects.filter(pk=dr.pk), user_ids=[holder.pk])

    assert changed > 0
    trail = list(dr.events.values_list("verb", "actor_label", "old", "new"))
    assert "Oosterhuizen" not in str(trail) and "w***@" not in str(trail)
    assert ("fulfilment", staff_user.username, "[erased]", "[erased]") in trail  # staff stay named
    assert ("file", "requester", None, "[erased]") in trail
    assert ("message", "requester", None, None) in trail
    assert ("created", "requester", None, "awaiting_verification") in trail  # what happened, and when, stays
    # Another person's trail is untouched.
    assert other.events.filter(verb="status", new="verified", actor_label=staff_user.username).exists()
    assert other.events.filter(verb="created").exclude(actor_label="requester").exists()
