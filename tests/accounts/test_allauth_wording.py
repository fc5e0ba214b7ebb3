"""allauth's pages speak the portal's words: Log in, Create account, E-mail address, not allauth's defaults."""

import re

import pytest

ALLAUTH_WORDS = re.compile(
    r"Sign In|Sign Up|Sign Out|Remember Me|Reset My Password|Password Reset|>\s*Email\s*<|Bad Token|Email Address"
    r"|Make Primary|Re-send Verification|Add Email"
)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("/accounts/login/", ["Log in", "E-mail address", "Keep me logged in on this device", "Create an account"]),
        ("/accounts/signup/", ["Create your account", "E-mail address", "Repeat the password", "Create account"]),
        ("/accounts/password/reset/", ["Reset your password", "E-mail address", "Send the link"]),
        ("/accounts/password/reset/done/", ["Check your e-mail"]),
        ("/accounts/password/reset/key/x-set-password/", ["This link no longer works", "Ask for a new link"]),
    ],
)
def test_account_pages_use_the_portals_words(client, db, url, words):
    html = client.get(url, follow=True).content.decode()
    for word in words:
        assert word in html, word
    assert not ALLAUTH_WORDS.search(html)


def test_logout_page_uses_the_portals_words(client, user_factory):
    client.force_login(user_factory(email="robin@example.com"))
    html = client.get("/accounts/logout/").content.decode()
    assert "Log out of your account on this device?" in html and not ALLAUTH_WORDS.search(html)


def test_email_addresses_page_uses_the_portals_words(client, user_factory):
    client.force_login(user_factory(email="robin@example.com"))
    html = client.get("/accounts/email/").content.decode()
    assert "Your e-mail addresses" in html and "Add an e-mail address" in html and "E-mail address" in html
    assert not ALLAUTH_WORDS.search(html)
