"""Reads that decide who may see a request, and how secrets are compared."""

from django.contrib.auth.models import AnonymousUser

from requests_app import selectors, services
from requests_app.models import DataRequest


def _spy_on_constant_time_compare(monkeypatch) -> list:
    calls = []
    real = selectors.constant_time_compare

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(selectors, "constant_time_compare", spy)
    return calls


def test_verification_secrets_are_compared_in_constant_time(make_request, monkeypatch):
    calls = _spy_on_constant_time_compare(monkeypatch)
    dr = make_request(kind="erasure")
    token = services.issue_verification_token(data_request=dr)
    selector, _sep, verifier = token.partition(".")
    stored = dr.verification_tokens.get().verifier_hash

    # Opening the link and confirming it both compare the stored hash, never with ``==``.
    assert selectors.verification_link_state(token=f"{selector}.wrong")[0] == "invalid"
    assert selectors.verification_link_state(token=token)[0] == "pending"
    services.verify_with_token(token=token)
    assert len(calls) == 3
    assert all(b == stored for _a, b in calls)
    assert [a == stored for a, _b in calls] == [False, True, True]


def test_verifier_matches_only_the_right_secret():
    stored = selectors.hash_verifier("secret-part")
    assert selectors.verifier_matches(verifier="secret-part", verifier_hash=stored)
    assert not selectors.verifier_matches(verifier="secret-parT", verifier_hash=stored)
    assert not selectors.verifier_matches(verifier="", verifier_hash=selectors.hash_verifier(""))


def test_requester_access_owner_or_holder_of_the_status_link(make_request, user_factory):
    owner = user_factory(email="owner@example.com")
    someone_else = user_factory(email="else@example.com")
    mine = make_request(user=owner, email="owner@example.com")
    other = make_request()
    link = services.make_status_token(mine)

    assert selectors.requester_access(data_request=mine, user=owner) == "session"
    assert selectors.requester_access(data_request=mine, user=someone_else) == ""
    assert selectors.requester_access(data_request=mine, user=AnonymousUser()) == ""
    assert selectors.requester_access(data_request=mine, user=None, status_token=link) == "status-link"
    # A request without an account is nobody's by session, whoever is signed in.
    assert selectors.requester_access(data_request=other, user=owner) == ""
    # A link to one request opens no other; a forged or revoked link opens none.
    assert selectors.requester_access(data_request=other, status_token=link) == ""
    assert selectors.requester_access(data_request=mine, status_token=link + "x") == ""
    DataRequest.objects.filter(pk=mine.pk).update(status_nonce="rotated")
    mine.refresh_from_db()
    assert selectors.requester_access(data_request=mine, status_token=link) == ""
