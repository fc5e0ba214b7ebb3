"""Choices refused because the website's origin is not allowed: counted per property, shown to staff, alerted."""

import json
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from consent import services
from consent.models import ConsentRecord, RefusedOrigin
from tests.consent.conftest import HOST_ORIGIN

OTHER = "https://shop.example.org"


def preflight(client, key, origin):
    return client.options(f"/api/consent/{key}/records", HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")


def post(client, key, origin):
    body = {"consent_id": str(uuid.uuid4()), "revision": 1, "choices": {}, "method": "reject_all"}
    return client.post(
        f"/api/consent/{key}/records", data=json.dumps(body), content_type="application/json", HTTP_ORIGIN=origin
    )


@pytest.fixture
def officer(user_factory):
    user = user_factory(email="officer@example.com", is_staff=True)
    group, _ = Group.objects.get_or_create(name="Privacy officer")
    user.groups.add(group)
    return user


def test_refused_preflights_and_posts_are_counted_per_origin(client, prop):
    assert preflight(client, prop.key, OTHER).status_code == 403
    assert preflight(client, prop.key, OTHER + "/").status_code == 403
    assert post(client, prop.key, OTHER).status_code == 403
    assert preflight(client, prop.key, "https://other.example.net").status_code == 403
    rows = {r.origin: r for r in RefusedOrigin.objects.filter(property=prop)}
    assert set(rows) == {OTHER, "https://other.example.net"}
    assert rows[OTHER].count == 3 and rows[OTHER].last_seen >= rows[OTHER].first_seen
    assert not ConsentRecord.objects.exists()


def test_allowed_and_same_origin_requests_are_not_counted(client, prop):
    assert preflight(client, prop.key, HOST_ORIGIN).status_code == 204
    assert post(client, prop.key, HOST_ORIGIN).status_code == 201
    assert post(client, prop.key, "http://testserver").status_code == 201
    assert not RefusedOrigin.objects.exists()


@pytest.mark.parametrize(
    "origin", ["null", "https://a\u0000b.example", "javascript:alert(1)", "https://" + "a" * 300, "ftp://x.example"]
)
def test_origins_that_are_not_website_addresses_are_not_stored(client, prop, origin):
    assert preflight(client, prop.key, origin).status_code == 403
    assert not RefusedOrigin.objects.exists()


def test_distinct_origins_per_property_are_capped(prop):
    for i in range(services.REFUSED_ORIGINS_MAX + 10):
        services.record_refused_origin(property_pk=prop.pk, origin=f"https://s{i}.example.net")
    assert RefusedOrigin.objects.filter(property=prop).count() == services.REFUSED_ORIGINS_MAX
    # Known origins are still counted once the list is full.
    services.record_refused_origin(property_pk=prop.pk, origin="https://s0.example.net")
    assert RefusedOrigin.objects.get(property=prop, origin="https://s0.example.net").count == 2


def test_refused_origin_recording_is_rate_limited_per_client(client, prop, settings):
    settings.CONSENT_API_RATE_LIMIT = "3/m"
    for i in range(6):
        assert preflight(client, prop.key, f"https://s{i}.example.net").status_code == 403
    assert RefusedOrigin.objects.count() == 3


def test_privacy_officers_are_mailed_once_per_origin_per_day(
    client, prop, officer, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            preflight(client, prop.key, OTHER)
    mails = smtp_server.wait_for("officer@example.com")
    assert len(mails) == 1
    text = smtp_server.text(mails[0])
    assert OTHER in text and prop.name in text and "Allowed origins" in text
    assert f"/admin/consent/property/{prop.pk}/change/" in text
    assert OTHER in mails[0]["Subject"]

    row = RefusedOrigin.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.record_refused_origin(property_pk=prop.pk, origin=OTHER, now=row.alerted_at + timedelta(hours=23))
    assert len(smtp_server.to("officer@example.com")) == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.record_refused_origin(property_pk=prop.pk, origin=OTHER, now=row.alerted_at + timedelta(hours=25))
    smtp_server.wait_for("officer@example.com", count=2)


def test_alert_is_sent_only_after_the_write_commits(prop, officer, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.record_refused_origin(property_pk=prop.pk, origin=OTHER)
    assert not mailoutbox and len(callbacks) == 1
    callbacks[0]()
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["officer@example.com"]


def test_property_admin_page_shows_refused_origins_and_the_embed_rule(client, prop, staff_user):
    services.record_refused_origin(property_pk=prop.pk, origin=OTHER)
    services.record_refused_origin(property_pk=prop.pk, origin=OTHER, now=timezone.now())
    client.force_login(staff_user)
    page = client.get(f"/admin/consent/property/{prop.pk}/change/").content.decode()
    assert "Refused website addresses" in page
    assert OTHER in page and "<td>2</td>" in page
    assert "must be listed in Allowed origins" in page
    assert "not recorded as proof of consent" in page

    # Once the address is allowed, it is no longer shown as refused.
    prop.allowed_origins = f"{HOST_ORIGIN}\n{OTHER}"
    prop.save()
    page = client.get(f"/admin/consent/property/{prop.pk}/change/").content.decode()
    assert f"<td>{OTHER}</td>" not in page
    assert "every choice came from an allowed address" in page
