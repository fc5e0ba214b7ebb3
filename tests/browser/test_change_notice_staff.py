"""A material change's notice, sent from the version's page in a real browser at 1366 px: the confirmation says
who will be mailed, the report follows the batches and then says who was told."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.test_pages import AXE_PATH, axe_script, serious_axe_violations  # noqa: F401, F811
from tests.factories import DEFAULT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORT = {"width": 1366, "height": 900}


@pytest.fixture
def officer(user_factory):
    from django.contrib.auth.models import Group

    from core.permissions import PRIVACY_OFFICER, sync_group_permissions

    sync_group_permissions()
    member = user_factory(email="officer@example.com", is_staff=True)
    member.groups.add(Group.objects.get(name=PRIVACY_OFFICER))
    return member


@pytest.fixture
def material_change(user_factory):
    from django.utils import timezone

    from policies.models import DocumentKind
    from policies.services import create_version, ensure_document, publish_version

    for name in ("ann", "bob"):
        user_factory(email=f"{name}@example.com")
    document = ensure_document(kind=DocumentKind.PRIVACY, title="Privacy policy")
    publish_version(version=create_version(document=document, body="# Policy\n\nLittle."), now=timezone.now())
    version = create_version(document=document, body="# Policy\n\nWe share.", summary="Sharing.", is_material=True)
    return version, lambda: publish_version(version=version, effective_at=timezone.now() + timedelta(days=7))


def _login(page, live_server, user):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page).not_to_have_url(re.compile("/login/"))


def _fits(page):
    assert page.evaluate("document.scrollingElement.scrollWidth") <= VIEWPORT["width"] + 1


def test_send_the_notice_from_the_version_page_and_read_its_report(
    browser,
    live_server,
    officer,
    material_change,
    axe_script,  # noqa: F811
):
    from django.core import mail

    from policies.models import ChangeNotice, NoticeDelivery

    version, publish = material_change
    publish()
    # As if no worker had taken up the notice queued at publishing (the workers were down): nobody told yet.
    NoticeDelivery.objects.filter(notice__version=version).delete()
    ChangeNotice.objects.filter(version=version).update(status="queued", total=0, sent=0, batches=0)
    mail.outbox.clear()
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", bypass_csp=True)
    page = context.new_page()
    page.route(
        f"{live_server.url}{AXE_PATH}",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=axe_script),
    )
    _login(page, live_server, officer)
    page.goto(f"{live_server.url}/admin/policies/policyversion/{version.pk}/change/")
    page.get_by_role("link", name="Send the change notice").click()
    # The consequence first: how many, and who.
    expect(page.locator("#content-main")).to_contain_text("3 account holders have not been told yet")
    expect(page.locator("#content-main")).to_contain_text("ann@example.com")
    _fits(page)
    assert serious_axe_violations(page, live_server) == []
    assert not mail.outbox
    page.get_by_role("button", name="Send to 3 account holders").click()
    expect(page).to_have_url(re.compile(rf"/policyversion/{version.pk}/notice/report/$"))
    expect(page.get_by_role("status")).to_contain_text("Finished.")
    expect(page.locator(".notice-figures")).to_contain_text("Told")
    assert page.locator(".notice-figures dd").first.inner_text() == "3"
    _fits(page)
    assert serious_axe_violations(page, live_server) == []
    assert sorted(m.to[0] for m in mail.outbox) == ["ann@example.com", "bob@example.com", "officer@example.com"]
    context.close()


def test_the_report_shows_progress_until_the_notice_is_done(browser, live_server, officer, material_change):
    from policies.models import ChangeNotice

    version, publish = material_change
    publish()
    ChangeNotice.objects.filter(version=version).update(status="sending", total=4, sent=1)
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    page = context.new_page()
    _login(page, live_server, officer)
    page.goto(f"{live_server.url}/admin/policies/policyversion/{version.pk}/notice/report/")
    bar = page.locator("progress#notice-progress-bar")
    expect(bar).to_have_attribute("value", "25")
    ChangeNotice.objects.filter(version=version).update(sent=3)
    expect(page.locator("[data-progress-text]")).to_have_text("3 / 4", timeout=10000)
    ChangeNotice.objects.filter(version=version).update(status="done", sent=4)
    # Done: the page reloads and the server renders the final figures in place of the bar.
    expect(page.get_by_role("status")).to_contain_text("Finished.", timeout=10000)
    expect(bar).to_have_count(0)
    context.close()
