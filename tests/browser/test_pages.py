"""A tour of every public page in headless Chromium, as the visitor each page is meant for.

Each page must answer 200, have a <title> and an <h1>, log no console error, uncaught exception
or Content-Security-Policy violation, and (on the portal's own pages, not Django's admin) pass
axe-core with no serious or critical violation. axe-core is served from the portal's own origin
through a Playwright route, so the strict CSP stays on while it runs.
"""

import os
import tarfile
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CACHE_DIR = Path(__file__).resolve().parents[2] / "bench" / ".cache"
AXE_VERSION = "4.14.1"  # the copy the consent pages' checks use (tests/browser/test_consent_banner.py)
AXE_PATH = "/__tour__/axe.min.js"

# Collected in the page before any of its own scripts run.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => {
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture(scope="session")
def axe_script():
    import shutil
    import subprocess

    target = CACHE_DIR / f"axe-core-{AXE_VERSION}.tgz"
    if not target.exists() and shutil.which("npm"):
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        # Pack aside and rename: parallel test workers never read a half-written archive.
        with tempfile.TemporaryDirectory(dir=CACHE_DIR) as tmp:
            subprocess.run(
                ["npm", "pack", f"axe-core@{AXE_VERSION}", "--silent"], cwd=tmp, capture_output=True, timeout=120
            )
            packed = Path(tmp) / target.name
            if packed.exists():
                os.replace(packed, target)
    if not target.exists():
        pytest.skip(f"axe-core {AXE_VERSION} unavailable (run `npm pack axe-core@{AXE_VERSION}` in bench/.cache/)")
    with tarfile.open(target) as tar:
        return tar.extractfile("package/axe.min.js").read()


class _Quiet:
    def write(self, *_args, **_kwargs):
        pass


@pytest.fixture
def demo(live_server, settings):
    """The demo data a fresh `make run` shows, plus a request owned by a demo account holder."""
    settings.PORTAL_CONSENT_PROPERTY_KEY = ""  # the seeded portal property, as in a real run
    call_command("seed_demo", users=5, stdout=_Quiet())
    call_command("enforce_retention", dry_run=True, stdout=_Quiet())
    from django.contrib.auth import get_user_model

    from requests_app.models import RequestKind
    from requests_app.services import create_verified_request

    User = get_user_model()
    holder = User.objects.filter(is_staff=False, email__endswith="@example.com").order_by("pk").first()
    data_request = create_verified_request(user=holder, kind=RequestKind.RECTIFICATION, details="My street is wrong.")
    staff = User.objects.get(email=settings.DEMO_ADMIN_EMAIL)
    return {"holder": holder, "staff": staff, "request": data_request}


def _log_in(page, live_server, user) -> None:
    """Give the browser a session for ``user`` (the login form itself is visited in the anonymous tour)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def _property_change(demo):
    from consent.models import Property

    return f"/admin/consent/property/{Property.objects.order_by('pk').first().pk}/change/"


def _retention_run(demo):
    from retention.models import RetentionRun

    return f"/admin/retention/retentionrun/{RetentionRun.objects.order_by('pk').first().pk}/change/"


def _pending_policy_change(demo):
    """A material change to the privacy policy that the account holder has yet to accept."""
    from django.utils import timezone

    from policies.models import PolicyDocument
    from policies.services import activate_due_versions, create_version, publish_version

    now = timezone.now()
    version = create_version(
        document=PolicyDocument.objects.get(kind="privacy"),
        body="# Who we are\n\nWe now share order details with our delivery partner.\n",
        summary="We share order details with our delivery partner.",
        is_material=True,
    )
    publish_version(version=version, effective_at=now + timedelta(seconds=1))
    activate_due_versions(now=now + timedelta(seconds=2))
    return "/privacy/accept/"


ANONYMOUS = [
    "/",
    "/privacy/",
    "/privacy/history/",
    "/privacy/cookie-policy/",
    "/privacy/terms/",
    "/privacy/history/privacy/v1/",
    "/privacy/data/",
    "/cookies/",
    "/third-parties/",
    "/requests/new/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    "/accounts/password/reset/done/",
]
ACCOUNT_HOLDER = [
    "/account/",
    "/account/name/",
    "/account/consents/",
    "/account/email-preferences/",
    "/requests/mine/",
    lambda demo: f"/requests/{demo['request'].reference}/",
    "/account/delete/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/sessions/",
    "/accounts/reauthenticate/",
    "/accounts/logout/",
    _pending_policy_change,
]


def _request_trail(demo) -> str:
    return f"/admin/requests_app/datarequest/{demo['request'].pk}/audit/"


STAFF = [
    "/admin/",
    "/admin/requests_app/datarequest/",
    "/admin/requests_app/datarequest/metrics/",
    lambda demo: f"/admin/requests_app/datarequest/{demo['request'].pk}/change/",
    "/admin/registry/recordofprocessing/",
    "/admin/retention/retentionrun/",
    _retention_run,
    "/admin/retention/retentionpolicy/",
    "/admin/consent/property/",
    _property_change,
    "/admin/policies/policyversion/",
    "/admin/policies/changenotice/",
    "/admin/core/organisation/",
    "/admin/django_celery_beat/periodictask/",
    "/admin/audit/auditevent/",
    _request_trail,
]


def _id(path) -> str:
    return path if isinstance(path, str) else path.__name__ if path.__name__ != "<lambda>" else "dynamic"


TOUR = (
    [pytest.param("anonymous", p, id=f"anonymous {_id(p)}") for p in ANONYMOUS]
    + [pytest.param("holder", p, id=f"holder {_id(p)}") for p in ACCOUNT_HOLDER[:4]]
    + [pytest.param("holder", ACCOUNT_HOLDER[4], id="holder request status")]
    + [pytest.param("holder", p, id=f"holder {_id(p)}") for p in ACCOUNT_HOLDER[5:]]
    + [pytest.param("staff", p, id=f"staff {_id(p)}") for p in STAFF]
)


@pytest.fixture
def problems(page, live_server, axe_script):
    """Console errors, uncaught exceptions and failed sub-resources of the page under test."""
    found: list[str] = []

    def on_console(msg):
        # Failed loads are reported with their URL by on_response.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            found.append(f"console: {msg.text}")

    def on_response(response):
        if response.status >= 400 and response.url.startswith(live_server.url):
            found.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: found.append(f"pageerror: {exc}"))
    page.on("response", on_response)
    page.add_init_script(CSP_LISTENER)
    page.route(
        f"{live_server.url}{AXE_PATH}",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body=axe_script),
    )
    return found


def serious_axe_violations(page, live_server) -> list:
    page.add_script_tag(url=f"{live_server.url}{AXE_PATH}")
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize(("visitor", "path"), TOUR)
def test_page_serves_an_accessible_page_without_errors(page, live_server, demo, problems, visitor, path):
    if callable(path):
        path = path(demo)
    if visitor != "anonymous":
        _log_in(page, live_server, demo[visitor])
    response = page.goto(live_server.url + path)
    page.wait_for_load_state("networkidle")

    assert response.status == 200, f"{path} answered {response.status}"
    assert page.url.rstrip("/").endswith(path.rstrip("/")), f"{path} went to {page.url}"
    assert page.title().strip(), f"{path} has no <title>"
    assert page.locator("h1").count() >= 1 and page.locator("h1").first.inner_text().strip(), f"{path} has no <h1>"
    if not path.startswith("/admin/"):
        # The banner shows on the portal's own pages: let its entry animation end before colour checks.
        page.wait_for_timeout(300)
        assert serious_axe_violations(page, live_server) == [], path
    problems.extend(f"CSP: {v}" for v in page.evaluate("window.__cspViolations || []"))
    assert problems == [], path


@pytest.mark.parametrize("path", ["/", "/requests/new/"])
def test_narrow_phone_screen_has_no_sideways_scrolling(page, live_server, demo, path, tmp_path):
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_server.url + path)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(tmp_path / "narrow.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{path} is {width}px wide on a 375px screen"
    # Nothing sticks out past the right edge behind an overflow rule either (long words, tables, inputs).
    too_wide = page.evaluate(
        """[...document.querySelectorAll('main *')].filter(e => {
             const r = e.getBoundingClientRect(); return r.width > 0 && r.right > 376;
           }).map(e => e.tagName + '.' + e.className).slice(0, 5)"""
    )
    assert too_wide == [], path
