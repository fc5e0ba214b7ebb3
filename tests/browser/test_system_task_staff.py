"""A privacy officer works a system owner's task in a real browser: from the request's checklist, they give it to
someone else (whose mailed link opens, while the first owner's no longer does) and add a task by hand."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import DEFAULT_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARCHIVE = """\
systems:
  - key: paper_archive
    name: Paper archive
    kind: manual
    owner: {name: Archive desk, email: archive@example.com}
    actions: [access]
"""


def _link(smtp_server, to: str, count: int = 1) -> str:
    mail = smtp_server.wait_for(to, count=count)[-1]
    return re.search(r"https?://\S+/privacy/data/systems/tasks/\S+/", smtp_server.text(mail)).group(0)


def test_officer_reassigns_a_task_and_adds_one_by_hand(page, live_server, smtp_server, settings, user_factory):
    from django.contrib.auth.models import Group

    from requests_app.services import create_verified_request
    from systems.services import load_systems

    settings.SITE_URL = live_server.url
    load_systems(text=ARCHIVE)
    officer = user_factory(is_staff=True, email="officer@example.com")
    officer.groups.add(Group.objects.get(name="Privacy officer"))
    data_request = create_verified_request(user=user_factory(email="ann@example.com"), kind="access")
    first_link = _link(smtp_server, "archive@example.com")

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", officer.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.locator("input[type=submit]").click()
    page.goto(f"{live_server.url}/admin/requests_app/datarequest/{data_request.pk}/change/")
    page.locator(".systems-checklist").get_by_role("link", name="Paper archive").click()
    expect(page.locator("h1")).to_contain_text("Task for Paper archive")
    page.get_by_label("E-mail of the person who will do it").fill("bob@example.com")
    page.get_by_role("button", name="Reassign").click()
    expect(page.locator(".messagelist")).to_contain_text("fresh link")
    expect(page.locator("#content")).to_contain_text("bob@example.com")

    new_link = _link(smtp_server, "bob@example.com")
    page.goto(first_link)
    expect(page.locator("main")).to_contain_text("does not work")
    page.goto(new_link)
    expect(page.locator("main")).to_contain_text("ann@example.com")

    page.goto(f"{live_server.url}/privacy/data/staff/requests/{data_request.pk}/tasks/new/")
    page.get_by_label("E-mail of the person who will do it").fill("sales@example.com")
    page.get_by_label("What they look after").fill("Sales team mailbox")
    page.get_by_label("In words").fill("Search the shared mailbox for her orders.")
    page.get_by_role("button", name="Add the task").click()
    expect(page.locator(".messagelist")).to_contain_text("Task added")
    mail = smtp_server.wait_for("sales@example.com")[-1]
    assert "shared mailbox" in smtp_server.text(mail)
