"""Nobody ever sees another person's request: pages, links and files (IDOR)."""

import itertools

import pytest
from django.core import signing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from requests_app import services
from requests_app.models import DataRequest

_seq = itertools.count()


@pytest.mark.smoke
def test_owner_page_and_files_refuse_other_users(client, user_factory, staff_user):
    alice, bob = user_factory(), user_factory()
    dr = services.create_verified_request(user=alice, kind="access")
    dr = services.complete_request(data_request=dr, actor=staff_user, summary="Done", files=[("export.txt", b"alice")])
    f = dr.files.get()
    owner_urls = [f"/requests/{dr.reference}/", f"/requests/{dr.reference}/files/{f.pk}/download/"]
    client.force_login(alice)
    for url in owner_urls:
        assert client.get(url).status_code == 200
    assert b"".join(client.get(owner_urls[1]).streaming_content) == b"alice"
    client.force_login(bob)
    for url in owner_urls:
        assert client.get(url).status_code == 404
    assert client.post(owner_urls[0], {"action": "withdraw"}).status_code == 404
    client.logout()
    for url in owner_urls:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url
    # Staff use the admin; the requester page is for the owner only.
    client.force_login(staff_user)
    assert client.get(owner_urls[0]).status_code == 404


def test_status_token_of_one_request_never_opens_another(client, make_request, staff_user):
    a, b = make_request(), make_request()
    b = services.verify_request(data_request=b, actor=staff_user)
    b = services.complete_request(data_request=b, actor=staff_user, summary="x", files=[("b.txt", b"bee")])
    token_a = services.make_status_token(a)
    f_b = b.files.get()
    assert client.get(f"/requests/status/{token_a}/files/{f_b.pk}/download/").status_code == 404
    forged = signing.Signer(salt="other").sign(f"{b.pk}.{b.status_nonce}")
    assert client.get(f"/requests/status/{forged}/").status_code == 404
    tampered = token_a.replace(f"{a.pk}.", f"{b.pk}.", 1)
    assert client.get(f"/requests/status/{tampered}/").status_code == 404


def test_attachments_are_not_downloadable_by_requester_urls(client, user_factory):
    from django.core.files.uploadedfile import SimpleUploadedFile

    alice = user_factory()
    dr, _ = services.submit_request(
        name="A",
        email=alice.email,
        kind="access",
        jurisdiction="gdpr",
        user=alice,
        attachment=SimpleUploadedFile("id.txt", b"secret id", content_type="text/plain"),
    )
    attachment = dr.files.get()
    client.force_login(alice)
    assert client.get(f"/requests/{dr.reference}/files/{attachment.pk}/download/").status_code == 404


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(owners=st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=6), viewer=st.integers(0, 3))
def test_no_user_sees_requests_of_others(client, user_factory, owners, viewer):
    batch = next(_seq)
    users = [user_factory(email=f"idor{batch}-{i}@example.com", username=f"idor{batch}-{i}") for i in range(4)]
    made = [
        services.create_verified_request(user=users[o], kind=k)
        for o, k in zip(
            owners, itertools.cycle(["access", "erasure", "rectification", "objection", "complaint", "restriction"])
        )
    ]
    me = users[viewer]
    client.force_login(me)
    mine_page = client.get("/requests/mine/").content.decode()
    for dr in made:
        page = client.get(f"/requests/{dr.reference}/")
        if dr.user_id == me.pk:
            assert page.status_code == 200 and dr.reference in mine_page
        else:
            assert page.status_code == 404
            assert dr.reference not in mine_page
    assert mine_page.count('href="/requests/DSR-') == DataRequest.objects.filter(user=me).count()


@pytest.mark.parametrize("victim_verified", [True, False])
def test_stranger_repeating_a_request_cannot_write_into_it_or_learn_its_reference(
    client, make_request, staff_user, victim_verified
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from requests_app.models import EventKind

    victim = make_request(email="victim@example.com", kind="erasure", details="Please delete my account.")
    if victim_verified:
        victim = services.verify_request(data_request=victim, actor=staff_user)
    form = {
        "kind": "erasure",
        "requester_name": "Stranger Example",
        "requester_email": "victim@example.com",
        "relationship": "customer",
        "jurisdiction": "gdpr",
        "details": "Stranger's text",
        "website": "",
        "attachment": SimpleUploadedFile("stranger.pdf", b"%PDF-1.4 stranger", content_type="application/pdf"),
    }
    response = client.post("/requests/new/", form)
    confirmation = client.get(response.url).content.decode()
    stranger = DataRequest.objects.exclude(pk=victim.pk).get()
    assert stranger.reference in confirmation and victim.reference not in confirmation
    victim.refresh_from_db()
    assert [m.body for m in victim.messages.all()] == []
    assert not victim.files.exists()
    assert not victim.events.filter(verb__in=[EventKind.LINKED, EventKind.FILE]).exists()
    status_page = client.get(services.status_url(victim).split("127.0.0.1:8000")[-1]).content.decode()
    assert "Stranger" not in status_page and "stranger.pdf" not in status_page
    # The stranger's own request is not folded in while unverified, whatever staff do on the victim's.
    assert stranger.merged_into is None and stranger.status == "awaiting_verification"


def test_verified_repeat_follows_the_open_request_it_was_added_to(client, make_request, staff_user):
    from django.urls import reverse

    first = services.verify_request(data_request=make_request(email="same@example.com"), actor=staff_user)
    repeat = make_request(email="same@example.com", details="Any news?")
    repeat_status_url = services.status_url(repeat).split("127.0.0.1:8000")[-1]
    token = services.issue_verification_token(data_request=repeat)
    page = client.post(reverse("requests_app:verify", kwargs={"token": token}), {"action": "confirm"})
    page = page.content.decode()
    assert f"request {repeat.reference} was added to request {first.reference}" in page
    first_status = reverse("requests_app:status", kwargs={"token": services.make_status_token(first)})
    assert first_status in page
    # The repeat's own status link, sent to the same address, now leads to the request it joined.
    response = client.get(repeat_status_url)
    assert response.status_code == 302 and response.url == first_status
    assert "Any news?" in client.get(first_status).content.decode()
