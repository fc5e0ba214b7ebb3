"""The one export-progress component, on the requester's status page and on the request's admin page."""

import pytest
from playwright.sync_api import expect

from tests.factories import DEFAULT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _running_export(user):
    from fulfilment.models import DataExport
    from requests_app.services import create_verified_request
    from tests.registry.conftest import make_subject_data

    make_subject_data(user)
    data_request = create_verified_request(user=user, kind="access")
    # Back to the middle of a run: the page must follow it to the end.
    DataExport.objects.filter(data_request=data_request).update(state="running", rows_done=2, rows_total=10)
    return data_request, DataExport.objects.get(data_request=data_request)


def _login(page, url, email, *, admin=False):
    page.goto(url)
    page.fill("#id_username" if admin else "input[name=login]", email)
    page.fill("#id_password" if admin else "input[name=password]", DEFAULT_PASSWORD)
    page.locator("main form [type=submit], #content form [type=submit]").first.click()


def test_requester_page_follows_the_export_and_shows_the_link_when_ready(page, live_server, user_factory):
    from fulfilment.models import DataExport

    owner = user_factory(email="waiting@example.com")
    data_request, export = _running_export(owner)
    _login(page, f"{live_server.url}/accounts/login/", owner.email)
    page.goto(f"{live_server.url}/requests/{data_request.reference}/")
    bar = page.locator("progress#export-progress-bar")
    expect(bar).to_have_attribute("value", "20")
    DataExport.objects.filter(pk=export.pk).update(rows_done=7)
    expect(page.locator("[data-progress-text]")).to_have_text("7 / 10", timeout=10000)
    assert bar.evaluate("b => b.value") == 70
    DataExport.objects.filter(pk=export.pk).update(state="ready", rows_done=10)
    # Finished: the page reloads and the server renders the download link in place of the bar.
    expect(page.get_by_role("link", name="Download your data (ZIP)")).to_be_visible(timeout=10000)


def test_request_admin_page_follows_the_export_and_stops_when_finished(page, live_server, user_factory):
    from fulfilment.models import DataExport

    staff = user_factory(email="officer@example.com", is_staff=True, is_superuser=True)
    data_request, export = _running_export(user_factory(email="subject@example.com"))
    _login(page, f"{live_server.url}/admin/login/", staff.email, admin=True)
    page.goto(f"{live_server.url}/admin/requests_app/datarequest/{data_request.pk}/change/")
    rows = page.locator(".dsr-export [data-progress-text]")
    expect(rows).to_have_text("2 / 10")
    DataExport.objects.filter(pk=export.pk).update(state="ready", rows_done=10)
    expect(rows).to_have_text("10 / 10", timeout=10000)
    assert page.locator(".dsr-export progress").evaluate("b => b.value") == 100
    requests = []
    page.on("request", lambda r: requests.append(r.url) if "/progress" in r.url else None)
    page.wait_for_timeout(3500)
    assert requests == []  # a finished export is not asked about again
