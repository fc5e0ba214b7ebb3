"""The foundation through a real headless Chromium: home page, sign-up with verification, re-acceptance."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from policies.models import DocumentKind, PolicyAcceptance
from policies.services import activate_due_versions, create_version, ensure_document, publish_version
from tests.factories import DEFAULT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def console_errors(page):
    """Console errors and uncaught exceptions, CSP violations included."""
    errors = []

    def on_console(msg):
        # Failed loads are reported below with their URL; browsers ask for /favicon.ico on their own.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            errors.append(msg.text)

    def on_response(response):
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            errors.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", on_response)
    return errors


@pytest.fixture
def policies_in_force():
    privacy = ensure_document(kind=DocumentKind.PRIVACY, title="Privacy policy")
    v1 = create_version(document=privacy, body="# Privacy\n\nWe keep your e-mail address for 90 days.\n")
    publish_version(version=v1, now=timezone.now() - timedelta(days=60))
    return privacy


def test_home_page_renders_its_links_without_console_errors(page, live_server, console_errors, policies_in_force):
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text().startswith("Your privacy at")
    hrefs = page.eval_on_selector_all("main a", "els => els.map(e => e.getAttribute('href'))")
    for href in ("/privacy/", "/cookies/", "/requests/new/", "/account/email-preferences/", "/account/"):
        assert href in hrefs
    page.get_by_role("link", name="Privacy policy").first.click()
    page.wait_for_url("**/privacy/")
    assert "90 days" in page.locator("main").inner_text()
    page.goto(live_server.url + "/privacy/history/")
    page.goto(live_server.url + "/accounts/login/")
    assert console_errors == []


def test_sign_up_verify_by_mail_then_log_in(page, live_server, console_errors, policies_in_force):
    page.goto(live_server.url + "/accounts/signup/")
    page.get_by_label("Full name").fill("Robin Example")
    page.get_by_label("E-mail address").fill("robin@example.com")
    page.get_by_label("Password", exact=True).fill("Sunny-meadow-2031")
    page.get_by_label("Repeat the password").fill("Sunny-meadow-2031")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/accounts/confirm-email/")
    assert "Confirm your e-mail address" in page.locator("main").inner_text()

    [message] = [m for m in mail.outbox if m.to == ["robin@example.com"]]
    path = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", message.body).group(1)
    page.goto(live_server.url + path)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_load_state()

    # Signed in straight after confirming; sign out, then back in with the password.
    page.goto(live_server.url + "/account/")
    assert "Robin Example" in page.locator("main").inner_text()
    page.goto(live_server.url + "/accounts/logout/")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail address").fill("robin@example.com")
    page.get_by_label("Password").fill("Sunny-meadow-2031")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/account/")
    assert page.get_by_role("heading", name="Your account", exact=True).is_visible()
    assert console_errors == []


def test_material_change_must_be_accepted_at_next_login(
    page, live_server, console_errors, user_factory, policies_in_force
):
    member = user_factory(first_name="Sam")
    member.date_joined = timezone.now() - timedelta(days=30)
    member.save()
    v2 = create_version(
        document=policies_in_force,
        body="# Privacy\n\nWe keep your e-mail address for 90 days and share it with our delivery partner.\n",
        summary="We now share your e-mail address with our delivery partner.",
        is_material=True,
    )
    publish_version(version=v2, effective_at=timezone.now() + timedelta(seconds=1))
    activate_due_versions(now=timezone.now() + timedelta(seconds=2))

    page.goto(live_server.url + "/accounts/login/?next=/account/")
    page.get_by_label("E-mail address").fill(member.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/privacy/accept/**")
    main = page.locator("main").inner_text()
    assert "delivery partner" in main

    # Going elsewhere leads back here until the change is accepted.
    page.goto(live_server.url + "/account/")
    assert "/privacy/accept/" in page.url
    page.get_by_role("button", name="Accept and continue").click()
    assert "Tick the box to accept" in page.locator("main").inner_text()  # nothing recorded without the tick
    assert not PolicyAcceptance.objects.exists()
    page.get_by_label("I have read the changes and accept the new version.").check()
    page.get_by_role("button", name="Accept and continue").click()
    page.wait_for_url(live_server.url + "/account/")
    assert "Sam" in page.locator("main").inner_text()
    acceptance = PolicyAcceptance.objects.get(user=member)
    assert acceptance.version_id == v2.pk and acceptance.accepted_at is not None
    assert console_errors == []
