"""The staff console in a real browser at 1366x900: the pages a privacy team lives in fit the screen, pass
axe-core and show no field paths, and /api/docs lists the API's operations under the portal's own CSP."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_pages import AXE_PATH, _Quiet, axe_script, serious_axe_violations  # noqa: F401, F811

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORT = {"width": 1366, "height": 900}
# What a person must not read on a staff screen: app.Model labels and a__b field paths (as the acceptance
# check words it); e-mail addresses, URLs and cookie-name patterns are left out first.
RAW = re.compile(r"\b[a-z_]+\.[A-Z][A-Za-z]+\b|\b[a-z]+__[a-z_]+\b")
NOT_PROSE = re.compile(r"\S+@\S+|\b[a-z][a-z0-9+.-]*://\S+|\S*[\^$*+?\\\[\]{}|]\S*")
VISIBLE_PROSE = """() => {
    const els = [...document.body.querySelectorAll('code, pre, kbd, samp, script')];
    els.forEach(e => e.style.setProperty('display', 'none', 'important'));
    const text = document.body.innerText;
    els.forEach(e => e.style.removeProperty('display'));
    return text;
}"""


@pytest.fixture
def console(live_server, settings):
    """The demo data a fresh `make run` shows, one retention run report, and the demo staff user."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    settings.PORTAL_CONSENT_PROPERTY_KEY = ""
    call_command("seed_demo", users=5, stdout=_Quiet())
    call_command("enforce_retention", stdout=_Quiet())
    return get_user_model().objects.get(email=settings.DEMO_ADMIN_EMAIL)


def _login(page, live_server, user, settings):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", settings.DEMO_ADMIN_PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page).not_to_have_url(re.compile("/login/"))


def _staff_pages():
    from consent.models import Property
    from requests_app.models import DataRequest
    from retention.models import RetentionRun

    return {
        "admin home": "/admin/",
        "request list": "/admin/requests_app/datarequest/",
        "a request page": f"/admin/requests_app/datarequest/{DataRequest.objects.order_by('pk').first().pk}/change/",
        "record of processing": "/admin/registry/recordofprocessing/",
        "a retention run report": f"/admin/retention/retentionrun/{RetentionRun.objects.latest('pk').pk}/change/",
        "a website page": f"/admin/consent/property/{Property.objects.order_by('pk').first().pk}/change/",
    }


def test_staff_pages_fit_1366_px_pass_axe_and_show_no_field_paths(
    browser,
    live_server,
    console,
    settings,
    axe_script,  # noqa: F811
):
    from retention.models import RetentionPolicy

    context = browser.new_context(viewport=VIEWPORT, locale="en-GB", bypass_csp=True)
    page = context.new_page()
    page.route(
        f"{live_server.url}{AXE_PATH}",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=axe_script),
    )
    _login(page, live_server, console, settings)
    problems = {}
    policy = RetentionPolicy.objects.order_by("pk").first()
    read_only = {
        "retention policies": "/admin/retention/retentionpolicy/",
        "a retention policy": f"/admin/retention/retentionpolicy/{policy.pk}/change/",
    }
    for what, path in {**_staff_pages(), **read_only}.items():
        response = page.goto(live_server.url + path)
        assert response.status == 200, (what, path)
        raw = sorted(set(RAW.findall(NOT_PROSE.sub(" ", page.evaluate(VISIBLE_PROSE)))))
        if raw:
            problems.setdefault(what, []).append(f"shows {raw[:5]}")
        if what in read_only:
            continue
        width = page.evaluate("document.scrollingElement.scrollWidth")
        if width > VIEWPORT["width"] + 1:
            problems.setdefault(what, []).append(f"{width} px wide")
        violations = serious_axe_violations(page, live_server)
        if violations:
            problems.setdefault(what, []).append(f"axe: {violations}")
    context.close()
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())


def test_api_docs_list_the_operations_under_the_portals_csp(page, live_server, settings):
    blocked = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{live_server.url}/api/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=15000)
    from django.test import Client

    paths = Client().get("/api/openapi.json").json()["paths"]
    assert page.locator(".opblock").count() == sum(len(ops) for ops in paths.values())
    assert not blocked


def test_a_policys_dry_run_button_ends_on_its_one_run_report(browser, live_server, console, settings):
    from retention.models import RetentionPolicy, RetentionRun

    policy = RetentionPolicy.objects.get(name="traffic-logs")
    before = RetentionRun.objects.count()
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    page = context.new_page()
    _login(page, live_server, console, settings)
    page.goto(f"{live_server.url}/admin/retention/retentionpolicy/{policy.pk}/change/")
    page.get_by_role("button", name="Dry run").click()
    expect(page.locator("#content h2").first).to_contain_text("Dry run")
    run = RetentionRun.objects.latest("pk")
    assert RetentionRun.objects.count() == before + 1 and run.dry_run and run.only_policy == "traffic-logs"
    assert page.url.endswith(f"/admin/retention/retentionrun/{run.pk}/change/")
    expect(page.locator(".messagelist li")).to_have_count(1)
    expect(page.locator(".retention-report tbody tr")).to_have_count(1)
    expect(page.locator(".retention-report")).to_contain_text("Traffic logs")
    context.close()
