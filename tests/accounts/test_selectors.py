"""Which account an e-mail address names: only a verified address names anyone."""

from allauth.account.models import EmailAddress
from django.contrib.auth.models import AnonymousUser

from accounts import selectors


def test_only_a_verified_address_names_its_account(user_factory):
    holder = user_factory(email="holder@example.com")
    unverified = user_factory(email="unconfirmed@example.com", verified=False)
    assert selectors.account_for_verified_email(email=" Holder@Example.com ") == holder
    assert selectors.account_for_verified_email(email="unconfirmed@example.com") is None
    assert selectors.owns_verified_email(user=holder, email="HOLDER@example.com")
    assert not selectors.owns_verified_email(user=unverified, email="unconfirmed@example.com")
    # Someone else's verified address is not yours, and nobody signed out owns one.
    assert not selectors.owns_verified_email(user=unverified, email="holder@example.com")
    assert not selectors.owns_verified_email(user=AnonymousUser(), email="holder@example.com")


def test_email_addresses_list_the_primary_first(user_factory):
    user = user_factory(email="b-primary@example.com")
    EmailAddress.objects.create(user=user, email="a-second@example.com", verified=True, primary=False)
    assert [e.email for e in selectors.list_email_addresses(user=user)] == [
        "b-primary@example.com",
        "a-second@example.com",
    ]


def test_login_credentials_use_the_address_of_a_typed_username(user_factory):
    user_factory(username="robin", email="robin@example.com")
    assert selectors.login_credentials(login="Robin") == {"email": "robin@example.com"}
    assert selectors.login_credentials(login="robin@example.com") == {"email": "robin@example.com"}
    assert selectors.login_credentials(login="nobody") == {"username": "nobody"}
