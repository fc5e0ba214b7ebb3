"""A privacy officer works an erasure and a rectification from the registry's admin in a real browser."""

import pytest
from playwright.sync_api import expect

from tests.factories import DEFAULT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _admin_login(page, live_server, email):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.locator("input[type=submit]").click()


def test_officer_reviews_and_approves_erasure_and_rectifies_from_the_admin(page, live_server, user_factory):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from demo.models import Profile, TrafficLog
    from fulfilment.models import ErasureRun
    from requests_app.services import create_verified_request
    from tests.registry.conftest import make_subject_data

    officer = user_factory(is_staff=True, email="officer@example.com")
    officer.groups.add(Group.objects.get_or_create(name="Privacy officer")[0])
    leaving = user_factory(email="leaving@example.com")
    make_subject_data(leaving)
    erasure = create_verified_request(user=leaving, kind="erasure")  # the signal prepares the preview
    staying = user_factory(email="staying@example.com")
    make_subject_data(staying)
    rectification = create_verified_request(user=staying, kind="rectification")

    _admin_login(page, live_server, officer.email)
    page.get_by_role("link", name="Requests to fulfil").first.click()
    expect(page.locator("h1")).to_have_text("Requests to fulfil")
    row = page.locator("tr", has_text=erasure.reference)
    row.get_by_role("link", name="Erasure review").click()
    expect(page.locator("#content")).to_contain_text("Rows to delete")
    expect(page.locator("#content")).to_contain_text("Traffic logs")
    page.get_by_role("button", name="Approve and erase").click()  # eager: runs at once
    expect(page.locator("#content")).to_contain_text("completed")
    assert ErasureRun.objects.get(data_request=erasure).state == "completed"
    assert not TrafficLog.objects.filter(ip_address__startswith="10.77.").exclude(user=staying).exists()
    assert not get_user_model().objects.filter(email="leaving@example.com").exists()

    page.get_by_role("link", name="Requests to fulfil").first.click()
    page.locator("tr", has_text=rectification.reference).get_by_role("link", name="Rectify").click()
    page.get_by_label("job_title").fill("Head of Research")
    page.get_by_label("job_title").locator("xpath=..").get_by_role("button", name="Save").click()
    expect(page.locator(".messagelist")).to_contain_text("Saved")
    assert Profile.objects.get(user=staying).job_title == "Head of Research"
