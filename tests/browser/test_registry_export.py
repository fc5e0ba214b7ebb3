"""An account holder's access request in a real browser: progress, download link, refused for others."""

import zipfile

import pytest
from playwright.sync_api import expect

from tests.factories import DEFAULT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.locator("main form button[type=submit], main form input[type=submit]").first.click()


def test_requester_downloads_export_and_another_user_cannot(page, browser, live_server, user_factory, tmp_path):
    from fulfilment.models import DataExport
    from requests_app.services import create_verified_request
    from tests.registry.conftest import make_subject_data

    csp_errors = []
    page.on("console", lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    owner = user_factory(email="owner@example.com")
    make_subject_data(owner)
    data_request = create_verified_request(user=owner, kind="access")  # the signal starts the export (eager)
    export = DataExport.objects.get(data_request=data_request)
    assert export.state == "ready"

    _login(page, live_server, owner.email)
    page.goto(f"{live_server.url}/requests/{data_request.reference}/")
    link = page.get_by_role("link", name="Download your data (ZIP)")
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    assert "/privacy/data/exports/" in href and "download" in href
    with page.expect_download() as info:
        link.click()
    target = tmp_path / "export.zip"
    info.value.save_as(target)
    with zipfile.ZipFile(target) as zf:
        assert "report.html" in zf.namelist() and "json/demo_trafficlog.json" in zf.namelist()

    other = browser.new_context(locale="en-GB").new_page()
    user_factory(email="intruder@example.com")
    _login(other, live_server, "intruder@example.com")
    response = other.goto(live_server.url + href)
    assert response.status == 403
    anonymous = browser.new_context(locale="en-GB").new_page()
    anonymous.goto(live_server.url + href)
    assert "/accounts/login/" in anonymous.url
    assert not csp_errors, csp_errors


def test_public_data_page_is_readable(page, live_server):
    page.goto(f"{live_server.url}/privacy/data/")
    expect(page.locator("h1")).to_have_text("What data we hold")
    expect(page.locator("main")).to_contain_text("Invoices")
    expect(page.locator("main")).to_contain_text("Who receives it")
