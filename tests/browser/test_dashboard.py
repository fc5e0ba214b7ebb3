"""The admin home as a dashboard and the request queue, in a real browser at 1366x900: each figure links to a
list of exactly that many rows, the queue's Due column is on screen, nothing scrolls sideways, axe-core passes."""

import re
from datetime import timedelta

import pytest

from tests.browser.test_pages import AXE_PATH, _Quiet, axe_script, serious_axe_violations  # noqa: F401, F811
from tests.browser.test_staff_console import VIEWPORT, _login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def console(live_server, settings):
    """The demo data of `make run`, two overdue requests (one the staff user's) and a retention run."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from requests_app.models import OPEN_STATUSES, DataRequest
    from requests_app.services import assign_request

    settings.PORTAL_CONSENT_PROPERTY_KEY = ""
    call_command("seed_demo", users=5, stdout=_Quiet())
    call_command("enforce_retention", dry_run=True, stdout=_Quiet())
    staff = get_user_model().objects.get(email=settings.DEMO_ADMIN_EMAIL)
    late = list(DataRequest.objects.filter(status__in=OPEN_STATUSES).order_by("pk")[:2])
    DataRequest.objects.filter(pk__in=[r.pk for r in late]).update(due_at=timezone.now() - timedelta(days=2))
    assign_request(data_request=late[0], assignee=staff, actor=staff)
    return staff


def _no_sideways_scroll(page):
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= VIEWPORT["width"] + 1, f"{page.url} is {width} px wide"


def test_dashboard_figures_lead_to_lists_of_that_many_rows(
    browser,
    live_server,
    console,
    settings,
    axe_script,  # noqa: F811
):
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    page = context.new_page()
    page.route(
        f"{live_server.url}{AXE_PATH}",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=axe_script),
    )
    _login(page, live_server, console, settings)
    page.goto(f"{live_server.url}/admin/")
    _no_sideways_scroll(page)
    assert serious_axe_violations(page, live_server) == []
    text = page.inner_text("main")
    assert re.search(r"Overdue\s+\d+", text) and re.search(r"Due this week\s+\d+", text)
    assert page.locator("svg.console-bar[role=img]").count() >= 1  # the consent chart, named by its caption
    assert page.locator("#content-main .app-requests_app").count() == 1  # the app list stays below

    figures = page.eval_on_selector_all(
        "a.console-figure",
        "as => as.map(a => [a.querySelector('.console-label').innerText, +a.querySelector('.console-number')"
        ".innerText, a.href])",
    )
    assert len(figures) == 8
    overdue = [n for label, n, _ in figures if label == "Overdue"]
    # Everyone's, then the staff user's own: the demo's overdue requests and the two made late above.
    assert len(overdue) == 2 and overdue[0] >= 2 and overdue[1] >= 1 and overdue[0] >= overdue[1]
    for label, n, href in figures:
        page.goto(href)
        rows = page.locator("#result_list tbody tr").count()
        assert rows == n, f"{label} shows {n} but {href} lists {rows}"
        if label == "Overdue":
            assert page.locator("#result_list .dsr-overdue").count() == n
    context.close()


def test_the_queue_keeps_the_due_column_on_screen(
    browser,
    live_server,
    console,
    settings,
    axe_script,  # noqa: F811
):
    from requests_app.models import OPEN_STATUSES, DataRequest

    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    page = context.new_page()
    page.route(
        f"{live_server.url}{AXE_PATH}",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=axe_script),
    )
    _login(page, live_server, console, settings)
    page.goto(f"{live_server.url}/admin/requests_app/datarequest/")
    _no_sideways_scroll(page)
    assert serious_axe_violations(page, live_server) == []
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == DataRequest.objects.filter(status__in=OPEN_STATUSES).count()
    due = page.locator("#result_list thead th.column-due_badge")
    box = due.bounding_box()
    assert box and box["x"] + box["width"] <= VIEWPORT["width"], box
    first_due = rows.first.locator("td.field-due_badge").inner_text()
    assert "overdue" in first_due  # most urgent first
    # The request page the queue leads to fits and passes axe-core too.
    page.goto(live_server.url + rows.first.locator("th.field-reference a").get_attribute("href"))
    page.wait_for_load_state()
    _no_sideways_scroll(page)
    assert serious_axe_violations(page, live_server) == []
    context.close()
