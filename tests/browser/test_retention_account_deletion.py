"""Self-service account deletion in a real Chromium: confirm with the password, see the grace period,
log in again during it, take the offer to cancel."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fulfilment.models import AccountDeletion, DeletionStatus
from requests_app.models import DataRequest
from tests.factories import DEFAULT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def console_errors(page):
    """Console errors (CSP violations included), uncaught exceptions and failed responses."""
    errors = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "response",
        lambda r: r.status >= 400 and not r.url.endswith("/favicon.ico") and errors.append(f"{r.status} {r.url}"),
    )
    return errors


def log_in(page, base_url, email):
    page.goto(base_url + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def test_delete_my_account_then_log_in_during_the_grace_period_and_cancel(
    page, live_server, user_factory, console_errors
):
    user = user_factory(email="leaving@example.com")
    log_in(page, live_server.url, "leaving@example.com")

    page.goto(live_server.url + "/account/")
    page.get_by_role("link", name="Delete your account").click()
    page.wait_for_url("**/account/delete/")
    main = page.locator("main")
    assert page.get_by_role("heading", name="Delete my account", level=1).is_visible()
    assert "14 days" in main.inner_text()
    assert page.get_by_role("heading", name="What we keep, and why").is_visible()

    # A wrong password is refused, and nothing is scheduled.
    page.get_by_label("Your password").fill("not-my-password-1")
    page.get_by_label("I understand that my account and its data will be deleted.").check()
    page.get_by_role("button", name="Delete my account").click()
    assert "That is not your password." in main.inner_text()
    assert not AccountDeletion.objects.exists()
    console_errors.clear()  # the refused form answered 400, as it should

    page.get_by_label("Your password").fill(DEFAULT_PASSWORD)
    page.get_by_label("I understand that my account and its data will be deleted.").check()
    page.get_by_role("button", name="Delete my account").click()
    page.wait_for_url("**/account/delete/")
    deletion = AccountDeletion.objects.get(user=user)
    assert deletion.execute_after - deletion.requested_at == timedelta(days=14)
    day = timezone.localtime(deletion.execute_after).strftime("%-d %B %Y")
    pending = page.get_by_role("region", name="Your account is scheduled for deletion")
    assert day in pending.inner_text() and deletion.request_reference in pending.inner_text()
    assert DataRequest.objects.get(pk=deletion.data_request_id).status == "verified"

    # Log out; logging in again during the grace period offers to cancel.
    page.goto(live_server.url + "/accounts/logout/")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    log_in(page, live_server.url, "leaving@example.com")
    assert "Your account is scheduled for deletion on" in page.locator("body").inner_text()
    page.get_by_role("link", name="Keep my account").click()
    page.wait_for_url("**/account/delete/cancel/")
    page.get_by_role("button", name="Cancel the deletion").click()
    page.wait_for_url("**/account/delete/")
    assert "Your account will not be deleted." in page.locator("body").inner_text()
    # The deletion form is offered again, and the erasure request is withdrawn.
    assert page.get_by_label("Your password").is_visible()
    deletion.refresh_from_db()
    assert deletion.status == DeletionStatus.CANCELLED
    assert DataRequest.objects.get(pk=deletion.data_request_id).status == "withdrawn"
    assert console_errors == []
