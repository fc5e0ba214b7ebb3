"""The record of processing in a real browser: an officer words an activity without a deploy, the form fits
1366 px and passes axe-core, and the printed page leaves out the menus."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_pages import AXE_PATH, axe_script, serious_axe_violations  # noqa: F401, F811
from tests.browser.test_staff_console import RAW, VIEWPORT, VISIBLE_PROSE, _login, console  # noqa: F401, F811

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_officer_words_an_activity_and_prints_the_record(
    browser,
    live_server,
    console,  # noqa: F811
    settings,
    axe_script,  # noqa: F811
):
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", bypass_csp=True)
    page = context.new_page()
    page.route(
        f"{live_server.url}{AXE_PATH}",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=axe_script),
    )
    _login(page, live_server, console, settings)
    page.goto(f"{live_server.url}/admin/registry/recordofprocessing/")
    page.get_by_role("link", name="Complete or reword “Customer support”").click()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= VIEWPORT["width"] + 1
    assert not serious_axe_violations(page, live_server)
    assert not RAW.findall(page.evaluate(VISIBLE_PROSE))
    page.get_by_label("Categories of data subjects").fill("Customers who write to support")
    page.get_by_label("Transfers to third countries").fill("Helpdesk Inc; United States; Standard contractual clauses")
    page.get_by_label("Security measures").fill("Access limited to the support team")
    page.locator("input[name=_save]").click()
    expect(page).to_have_url(re.compile("/admin/registry/recordofprocessing/$"))
    section = page.locator("section", has=page.get_by_role("heading", name="Customer support"))
    expect(section).to_contain_text("Customers who write to support")
    expect(section).to_contain_text("Helpdesk Inc (United States): Standard contractual clauses")
    page.emulate_media(media="print")
    expect(page.locator("#nav-sidebar")).to_be_hidden()
    expect(page.locator(".ropa-actions")).to_be_hidden()
    expect(page.locator(".ropa-print")).to_be_visible()
    context.close()
