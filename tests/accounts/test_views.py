import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail

from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def _signup(client, password, email="new@example.com", name="Robin Example"):
    return client.post(
        "/accounts/signup/", {"name": name, "email": email, "password1": password, "password2": password}
    )


@pytest.mark.smoke
@pytest.mark.parametrize(
    "password, reason",
    [
        ("Ab3-xyz", "too short"),
        ("Correct-horse-battery", "at least one digit"),
        ("password123", "too common"),
        ("82736451092", "entirely numeric"),
    ],
)
def test_signup_refuses_weak_passwords(client, password, reason):
    response = _signup(client, password)
    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not get_user_model().objects.filter(email="new@example.com").exists()


@pytest.mark.smoke
def test_signup_saves_name_and_sends_verification_mail(client):
    response = _signup(client, "Sunny-meadow-2031")
    assert response.status_code == 302 and response.url == "/accounts/confirm-email/"
    user = get_user_model().objects.get(email="new@example.com")
    assert (user.first_name, user.last_name) == ("Robin", "Example")
    assert not EmailAddress.objects.get(user=user).verified
    [message] = mail.outbox
    assert message.to == ["new@example.com"] and message.subject == "Confirm your e-mail address"
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message.body).group(0)
    path = link.split("testserver", 1)[-1]
    # Confirming is a POST (a mail scanner's GET must not confirm), then the user is signed in.
    assert client.get(path).status_code == 200
    confirmed = client.post(path)
    assert confirmed.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    assert client.get("/account/").status_code == 200


def test_signup_requires_name(client):
    response = _signup(client, "Sunny-meadow-2031", name="")
    assert response.status_code == 200 and "This field is required" in response.content.decode()


def test_unverified_user_cannot_log_in(client, user_factory):
    user = user_factory(verified=False)
    response = client.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and response.url == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session


@pytest.mark.smoke
def test_login_is_rate_limited_after_failed_attempts(client, user_factory):
    user = user_factory()
    for _ in range(5):
        response = client.post("/accounts/login/", {"login": user.email, "password": "wrong-password-1"})
        assert "not correct" in response.content.decode()
    blocked = client.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    assert "Too many failed login attempts" in blocked.content.decode()
    assert "_auth_user_id" not in client.session


def test_behind_a_proxy_one_visitors_failed_logins_do_not_lock_out_others(client, user_factory, settings):
    """Every request arrives from the proxy's address; the limits must count the real client's."""
    from django.test import Client

    settings.NUM_PROXIES = settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    victim, attacker = user_factory(), Client()
    for _ in range(6):
        attacker.post(
            "/accounts/login/",
            {"login": f"guess{_}@example.com", "password": "wrong-password-1"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.9",
        )
    response = client.post(
        "/accounts/login/",
        {"login": victim.email, "password": DEFAULT_PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(victim.pk)


def test_the_proxy_count_reaches_the_account_limits():
    from django.conf import settings

    assert settings.ALLAUTH_TRUSTED_PROXY_COUNT == settings.NUM_PROXIES


def test_login_logout_with_correct_password(client, user_factory):
    user = user_factory()
    response = client.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.smoke
def test_account_hub_links_to_everything_an_account_holder_manages(client, user_factory):
    user = user_factory(first_name="Kim", last_name="Example")
    client.force_login(user)
    html = client.get("/account/").content.decode()
    assert "Kim Example" in html and user.email in html
    for href in (
        "/accounts/email/",
        "/accounts/password/change/",
        "/accounts/sessions/",
        "/account/consents/",
        "/account/email-preferences/",
        "/requests/mine/",
        "/account/delete/",
    ):
        assert f'href="{href}"' in html


def test_account_hub_needs_login(client):
    response = client.get("/account/")
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


@pytest.mark.parametrize(
    "url", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/accounts/password/change/"]
)
def test_account_pages_use_the_portal_layout(client, user_factory, url):
    if "change" in url:
        client.force_login(user_factory())
    html = client.get(url).content.decode()
    assert 'class="site-header"' in html and "accounts/accounts.css" in html
    assert 'class="auth-form auth-panel"' in html and "<style" not in html and " style=" not in html


def test_sessions_page_signs_out_other_sessions(client, user_factory):
    from django.test import Client

    user = user_factory()
    other = Client()
    for c in (other, client):
        c.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD}, HTTP_USER_AGENT="Test")
    assert other.get("/account/").status_code == 200
    page = client.get("/accounts/sessions/")
    assert "Sign Out Other Sessions" in page.content.decode()
    client.post("/accounts/sessions/")
    assert client.get("/account/").status_code == 200
    assert other.get("/account/").status_code == 302  # signed out


def test_password_reset_mail_and_change(client, user_factory):
    user = user_factory()
    response = client.post("/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 302
    [message] = mail.outbox
    link = re.search(r"https?://testserver(/accounts/password/reset/key/\S+/)", message.body).group(1)
    form_url = client.get(link).url  # allauth moves the key into the session
    done = client.post(form_url, {"password1": "Fresh-river-2077", "password2": "Fresh-river-2077"})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Fresh-river-2077")

    client.force_login(user)
    weak = client.post(
        "/accounts/password/change/", {"oldpassword": "Fresh-river-2077", "password1": "short1", "password2": "short1"}
    )
    assert weak.status_code == 200 and "too short" in weak.content.decode()


def test_signup_page_names_the_terms_and_policy_a_newcomer_agrees_to(client):
    html = client.get("/accounts/signup/").content.decode()
    start = html.index('<form class="auth-form')
    form = html[start : html.index("</form>", start)]
    assert 'href="/privacy/terms/"' in form and 'href="/privacy/"' in form
    assert 'name="name"' in form and 'name="password1"' in form


def test_account_holder_corrects_their_name(client, user_factory):
    user = user_factory(first_name="Robin", last_name="Exampel")
    client.force_login(user)
    hub = client.get("/account/").content.decode()
    assert 'href="/account/name/"' in hub
    assert 'value="Robin Exampel"' in client.get("/account/name/").content.decode()
    response = client.post("/account/name/", {"name": "  Robin   van Example "})
    assert response.status_code == 302 and response.url == "/account/"
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Robin", "van Example")
    assert "Robin van Example" in client.get("/account/").content.decode()


def test_name_change_refuses_a_blank_name_and_needs_login(client, user_factory):
    user = user_factory(first_name="Robin", last_name="Example")
    assert client.get("/account/name/").url.startswith("/accounts/login/")
    client.force_login(user)
    response = client.post("/account/name/", {"name": "   "})
    assert response.status_code == 200 and 'aria-invalid="true"' in response.content.decode()
    user.refresh_from_db()
    assert user.get_full_name() == "Robin Example"


def test_signup_records_acceptance_of_the_versions_in_force(client):
    from datetime import timedelta

    from django.utils import timezone

    from policies.models import DocumentKind, PolicyAcceptance
    from policies.services import create_version, ensure_document, publish_version

    in_force = {}
    for kind in (DocumentKind.PRIVACY, DocumentKind.TERMS):
        document = ensure_document(kind=kind)
        version = create_version(document=document, body=f"# {kind}\n\nText.")
        in_force[kind] = publish_version(version=version, now=timezone.now() - timedelta(days=1))
    draft = create_version(document=ensure_document(kind=DocumentKind.TERMS), body="# Next terms\n\nText.")

    client.post(
        "/accounts/signup/",
        {
            "name": "Robin Example",
            "email": "new@example.com",
            "password1": "Sunny-meadow-2031",
            "password2": "Sunny-meadow-2031",
        },
        REMOTE_ADDR="198.51.100.23",
    )
    acceptances = PolicyAcceptance.objects.filter(user__email="new@example.com")
    assert {a.version_id for a in acceptances} == {v.pk for v in in_force.values()}
    assert draft.pk not in {a.version_id for a in acceptances}
    assert {a.ip for a in acceptances} == {"198.51.100.0"}
