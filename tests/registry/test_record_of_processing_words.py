"""The record of processing in admin reads as words: fields by their names, erasure by what it does."""

import pytest

pytestmark = pytest.mark.django_db


def test_record_of_processing_names_fields_and_erasure_in_words(client, staff_user):
    client.force_login(staff_user)
    page = client.get("/admin/registry/recordofprocessing/").content.decode()
    assert "<td>Job title</td>" in page  # the demo profile's job_title, by its verbose name
    assert "<td>job_title</td>" not in page and "<td>delete</td>" not in page
    assert "Delete the row" in page
    assert 'role="region"' in page  # the wide table scrolls in its own labelled box
