"""/admin/login/ meets the same failed-login limit as /accounts/login/: per account and per client."""

import pytest
from django.test import Client

from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

THROTTLED = "Too many failed login attempts"


def _staff(user_factory, **kw):
    return user_factory(is_staff=True, is_superuser=True, **kw)


def _admin_login(client, login, password, ip):
    return client.post(
        "/admin/login/?next=/admin/", {"username": login, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip
    )


def _logged_in_as(client, user) -> bool:
    return client.session.get("_auth_user_id") == str(user.pk)


def test_wrong_passwords_on_admin_login_are_throttled_then_even_the_right_one_waits(user_factory):
    staff, attacker = _staff(user_factory), Client()
    for i in range(5):
        answer = _admin_login(attacker, staff.email, f"wrong-{i}-x9", "203.0.113.5")
        assert answer.status_code == 200 and THROTTLED not in answer.content.decode()
    answer = _admin_login(attacker, staff.email, "wrong-6-x9", "203.0.113.5")
    assert THROTTLED in answer.content.decode()
    # The limit holds the account itself: the right password from the same client is not accepted now.
    answer = _admin_login(attacker, staff.email, DEFAULT_PASSWORD, "203.0.113.5")
    assert THROTTLED in answer.content.decode() and not _logged_in_as(attacker, staff)


def test_a_locked_account_does_not_lock_out_other_staff(user_factory):
    victim, colleague, attacker = _staff(user_factory), _staff(user_factory), Client()
    for i in range(6):
        _admin_login(attacker, victim.email, f"wrong-{i}-x9", "203.0.113.6")
    assert THROTTLED in _admin_login(attacker, victim.email, "wrong-7-x9", "203.0.113.6").content.decode()
    office = Client()
    answer = _admin_login(office, colleague.email, DEFAULT_PASSWORD, "198.51.100.20")
    assert answer.status_code == 302 and answer.url == "/admin/" and _logged_in_as(office, colleague)
    assert office.get("/admin/").status_code == 200


def test_one_limit_for_both_login_forms_and_for_username_or_e_mail(user_factory):
    """Failures on the account pages, by e-mail, and on admin, by username, add up for one account."""
    staff, attacker = _staff(user_factory), Client()
    for i in range(3):
        attacker.post(
            "/accounts/login/", {"login": staff.email, "password": f"wrong-{i}-x9"}, REMOTE_ADDR=f"192.0.2.{i + 1}"
        )
    for i in range(2):
        _admin_login(attacker, staff.username, f"wrong-admin-{i}-x9", f"192.0.2.{i + 10}")
    answer = _admin_login(attacker, staff.username, DEFAULT_PASSWORD, "192.0.2.50")
    assert THROTTLED in answer.content.decode() and not _logged_in_as(attacker, staff)


def test_one_client_guessing_many_accounts_is_throttled_by_address(user_factory):
    attacker = Client()
    answers = [
        _admin_login(attacker, f"guess-{i}@example.com", "wrong-x9", "203.0.113.77").content.decode() for i in range(7)
    ]
    assert THROTTLED not in answers[0] and THROTTLED in answers[-1]


def test_staff_log_in_on_admin_by_e_mail_or_username(user_factory):
    staff = _staff(user_factory)
    for login in (staff.email, staff.username):
        browser = Client()
        answer = _admin_login(browser, login, DEFAULT_PASSWORD, "198.51.100.30")
        assert answer.status_code == 302 and _logged_in_as(browser, staff)


def test_admin_login_still_refuses_non_staff_accounts(user_factory):
    user, browser = user_factory(), Client()
    answer = _admin_login(browser, user.email, DEFAULT_PASSWORD, "198.51.100.31")
    assert answer.status_code == 200 and "staff account" in answer.content.decode()
    assert not _logged_in_as(browser, user)
