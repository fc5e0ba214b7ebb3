"""An export's admin page in a real browser at 1366 px: building it again says what happens first, then the new
export's page follows the build and shows its result."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_pages import AXE_PATH, axe_script, serious_axe_violations  # noqa: F401, F811
from tests.factories import DEFAULT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORT = {"width": 1366, "height": 900}


def test_build_the_export_again_from_its_page(browser, live_server, user_factory, axe_script):  # noqa: F811
    from django.contrib.auth.models import Group
    from django.core import mail

    from core.permissions import PRIVACY_OFFICER, sync_group_permissions
    from fulfilment import services
    from fulfilment.models import DataExport
    from requests_app.services import create_verified_request
    from tests.registry.conftest import make_subject_data

    sync_group_permissions()
    officer = user_factory(email="officer@example.com", is_staff=True)
    officer.groups.add(Group.objects.get(name=PRIVACY_OFFICER))
    requester = user_factory(email="requester@example.com")
    make_subject_data(requester)
    data_request = create_verified_request(user=requester, kind="access")  # built at once (eager tasks)
    first = DataExport.objects.get(data_request=data_request)
    assert first.state == DataExport.State.READY
    mail.outbox.clear()

    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", bypass_csp=True)
    page = context.new_page()
    page.route(
        f"{live_server.url}{AXE_PATH}",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=axe_script),
    )
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", officer.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page).not_to_have_url(re.compile("/login/"))

    page.goto(f"{live_server.url}/admin/requests_app/datarequest/{data_request.pk}/change/")
    page.locator(".dsr-export a").first.click()
    expect(page.locator("#content")).to_contain_text("Ready:")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= VIEWPORT["width"] + 1
    assert serious_axe_violations(page, live_server) == []

    page.get_by_role("link", name="Build the export again").click()
    expect(page.locator("#content-main")).to_contain_text("requester@example.com is mailed the link")
    expect(page.locator("#content-main")).to_contain_text("stops working")
    assert serious_axe_violations(page, live_server) == []
    page.get_by_role("button", name="Build it again").click()

    new = DataExport.objects.exclude(pk=first.pk).get()
    expect(page).to_have_url(re.compile(rf"/dataexport/{new.pk}/change/$"))
    expect(page.locator("#content")).to_contain_text("Ready:")
    assert page.locator(".dsr-export progress").evaluate("b => b.value") == 100
    first.refresh_from_db()
    assert first.state == DataExport.State.EXPIRED and services.can_download(export=first, user=requester) == ""
    assert [m.to for m in mail.outbox] == [["requester@example.com"]]
    context.close()
