"""The whole story of a data-subject request in a real browser: intake, e-mail verification, staff completion."""

import re

import pytest
from playwright.sync_api import expect

from requests_app.models import DataRequest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_request_story_from_intake_to_completion(page, browser, live_server, smtp_server, staff_user, settings):
    settings.SITE_URL = live_server.url
    csp_errors = []
    page.on("console", lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None)

    # 1. Intake, anonymously.
    page.goto(f"{live_server.url}/requests/new/")
    page.select_option("select[name=kind]", "rectification")
    page.get_by_label("Your full name").fill("Rae Example")
    page.get_by_label("Your e-mail address").fill("rae@example.com")
    page.select_option("select[name=relationship]", "customer")
    page.select_option("select[name=jurisdiction]", label="European Union / EEA (GDPR)")
    page.get_by_label("Details").fill("My postal address is out of date.")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator("h1")).to_contain_text("received your request")
    reference = page.locator(".reference").inner_text()
    assert re.fullmatch(r"DSR-\d{4}-\d{6}", reference)

    # 2. The verification link, read from the SMTP server.
    mails = smtp_server.wait_for("rae@example.com", count=2)
    verification = next(m for m in mails if "/requests/verify/" in smtp_server.text(m))
    link = re.search(r"https?://\S+/requests/verify/\S+/", smtp_server.text(verification)).group(0)
    page.goto(link)
    # Opening the link verifies nothing (mail scanners open links too): the person confirms.
    expect(page.locator("h1")).to_contain_text("Confirm your request")
    assert DataRequest.objects.get(reference=reference).status == "awaiting_verification"
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("main")).to_contain_text("verified")

    # 3. The status page, through the private link.
    page.get_by_role("link", name="Follow your request").click()
    expect(page.locator("h1")).to_contain_text(reference)
    expect(page.locator("main")).to_contain_text("Verified")
    status_url = page.url

    # 4. Staff complete the request in admin.
    staff_context = browser.new_context(locale="en-GB")
    admin = staff_context.new_page()
    admin.goto(f"{live_server.url}/admin/login/")
    admin.fill("input[name=username]", staff_user.username)
    admin.fill("input[name=password]", "Correct-horse-42")
    admin.click("input[type=submit]")
    admin.goto(f"{live_server.url}/admin/requests_app/datarequest/?q={reference}")
    admin.get_by_role("link", name=reference).click()
    admin.get_by_role("link", name="Complete").click()
    admin.get_by_label("Summary for the requester").fill("We corrected your postal address.")
    admin.get_by_role("button", name="Complete").click()
    expect(admin.locator(".messagelist")).to_contain_text(f"{reference} is completed.")
    staff_context.close()
    assert DataRequest.objects.get(reference=reference).status == "completed"

    # 5. The requester sees the completion, on the page and by mail.
    page.goto(status_url)
    expect(page.locator("main")).to_contain_text("Your request is completed")
    expect(page.locator("main")).to_contain_text("We corrected your postal address.")
    mails = smtp_server.wait_for("rae@example.com", count=3)
    assert any("completed" in m["Subject"] for m in mails)
    assert not csp_errors, csp_errors


def test_access_request_confirmed_by_email_waits_for_staff_approval(
    page, browser, live_server, smtp_server, staff_user, settings
):
    settings.SITE_URL = live_server.url
    page.goto(f"{live_server.url}/requests/new/")
    page.select_option("select[name=kind]", "access")
    page.get_by_label("Your full name").fill("Ari Example")
    page.get_by_label("Your e-mail address").fill("ari@example.com")
    page.select_option("select[name=jurisdiction]", label="European Union / EEA (GDPR)")
    page.get_by_role("button", name="Send request").click()
    reference = page.locator(".reference").inner_text()
    mails = smtp_server.wait_for("ari@example.com", count=2)
    verification = next(m for m in mails if "/requests/verify/" in smtp_server.text(m))
    page.goto(re.search(r"https?://\S+/requests/verify/\S+/", smtp_server.text(verification)).group(0))
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("main")).to_contain_text("Our privacy team checks it")
    page.get_by_role("link", name="Follow your request").click()
    expect(page.locator("main")).to_contain_text("Our privacy team checks it")
    # The page's own forms still pass the CSRF check under its referrer policy.
    page.get_by_label("Your message").fill("Thank you.")
    page.get_by_role("button", name="Send message").click()
    expect(page.locator("main")).to_contain_text("Your message was sent.")

    staff_context = browser.new_context(locale="en-GB")
    admin = staff_context.new_page()
    admin.goto(f"{live_server.url}/admin/login/")
    admin.fill("input[name=username]", staff_user.username)
    admin.fill("input[name=password]", "Correct-horse-42")
    admin.click("input[type=submit]")
    admin.goto(f"{live_server.url}/admin/requests_app/datarequest/?approval=waiting")
    admin.get_by_role("link", name=reference).click()
    admin.get_by_role("link", name="Approve and carry out").click()
    expect(admin.locator("main")).to_contain_text("proved only that they can read mail")
    admin.get_by_role("button", name="Approve and carry out").click()
    expect(admin.locator(".messagelist")).to_contain_text(f"{reference} is approved and is being carried out.")
    staff_context.close()
    data_request = DataRequest.objects.get(reference=reference)
    assert data_request.release_approved_by == staff_user
    assert data_request.events.filter(verb="approval", new="approved").exists()
