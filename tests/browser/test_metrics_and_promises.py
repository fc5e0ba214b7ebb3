"""At 1366 px: the request metrics chart and its tables, a policy version that breaks a retention promise and
the dashboard that says so fit the screen, pass axe-core and break no rule of the portal's CSP."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.test_pages import AXE_PATH, CSP_LISTENER, _log_in, axe_script, serious_axe_violations  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORT = {"width": 1366, "height": 900}


@pytest.fixture
def portal(live_server):
    from policies.models import DocumentKind
    from policies.services import create_version, ensure_document, publish_version
    from requests_app.models import DataRequest
    from requests_app.services import submit_request
    from retention.models import RetentionPolicy
    from tests.factories import UserFactory

    for n, (kind, days_ago) in enumerate((("access", 3), ("erasure", 70), ("opt_out", 200))):
        dr, _ = submit_request(
            name=f"Requester {n}", email=f"r{n}@example.com", kind=kind, jurisdiction="ccpa",
            relationship="customer", details="",
        )  # fmt: skip
        DataRequest.objects.filter(pk=dr.pk).update(received_at=timezone.now() - timedelta(days=days_ago))
    RetentionPolicy.objects.update_or_create(
        name="traffic-logs",
        defaults={"dataset": "demo.TrafficLog", "period": 90, "date_field": "created_at", "action": "delete"},
    )
    document = ensure_document(kind=DocumentKind.PRIVACY, title="Privacy policy")
    version = publish_version(
        version=create_version(document=document, body="Server logs are deleted after 60 days.", summary="")
    )
    return {"staff": UserFactory(is_staff=True, is_superuser=True, email="officer@example.com"), "version": version}


def test_metrics_and_promise_pages_fit_1366_px_pass_axe_and_keep_the_csp(
    browser,
    live_server,
    portal,
    axe_script,  # noqa: F811
):
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    page = context.new_page()
    page.add_init_script(CSP_LISTENER)
    page.route(
        f"{live_server.url}{AXE_PATH}",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=axe_script),
    )
    _log_in(page, live_server, portal["staff"])
    pages = {
        "metrics": "/admin/requests_app/datarequest/metrics/",
        "policy version": f"/admin/policies/policyversion/{portal['version'].pk}/change/",
        "dashboard": "/admin/",
    }
    problems = {}
    for what, path in pages.items():
        assert page.goto(live_server.url + path).status == 200, path
        width = page.evaluate("document.scrollingElement.scrollWidth")
        if width > VIEWPORT["width"] + 1:
            problems.setdefault(what, []).append(f"{width} px wide")
        # Read before axe runs: axe adds styles of its own.
        csp = page.evaluate("window.__cspViolations || []")
        if csp:
            problems.setdefault(what, []).append(f"CSP: {csp}")
        violations = serious_axe_violations(page, live_server)
        if violations:
            problems.setdefault(what, []).append(f"axe: {violations}")
        if what == "metrics":
            chart = page.locator("svg.pp-chart")
            assert chart.is_visible() and chart.bounding_box()["width"] <= VIEWPORT["width"]
            assert page.get_by_role("table", name="Requests per month").locator("tbody tr").count() == 12
        elif what == "policy version":
            assert page.get_by_text("It says 60 days for Traffic logs; the retention enforced is 90 days.").is_visible()
        else:
            assert page.get_by_role(
                "link", name="Privacy policy v1 says 60 days for Traffic logs; 90 days enforced"
            ).is_visible()
    context.close()
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())
