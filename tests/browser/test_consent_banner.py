"""The banner embedded on a page of ANOTHER origin, in headless Chromium."""

import functools
import http.server
import re
import tarfile
import threading
import urllib.request
from pathlib import Path

import pytest

from consent.defaults import ensure_categories
from consent.models import ConsentRecord, CookieDeclaration, Property
from consent.services import invalidate_banner_cache, record_revision
from tests.conftest import wait_until

pytestmark = pytest.mark.browser

CACHE_DIR = Path(__file__).resolve().parents[2] / "bench" / ".cache"
AXE_VERSION = "4.14.1"

HOST_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo shop</title>
<script src="{portal}/consent/{key}/banner.js" defer></script>
</head>
<body>
<header><h1>Demo shop</h1></header>
<main>
<p>Welcome to the shop. <a href="#offers">See offers</a></p>
<form><label for="q">Search</label> <input id="q" name="q"> <button type="button">Search</button></form>
<script type="text/plain" data-category="performance">
window.perfRan = (window.perfRan || 0) + 1;
document.cookie = "_pa_id=abc;path=/";
document.cookie = "_pa_ses_1=xyz;path=/";
</script>
<script type="text/plain" data-category="targeting">window.adsRan = true; document.cookie = "_xa_uid=1;path=/";</script>
<iframe data-category="targeting" data-src="about:blank#ads" title="Advertisement"></iframe>
</main>
</body>
</html>
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def host_site(tmp_path):
    """A tiny static web server on another origin (127.0.0.1 vs the portal's localhost)."""
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"

    def publish(html: str, name: str = "index.html") -> str:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(html, encoding="utf-8")
        return f"{origin}/{name}"

    yield origin, publish
    server.shutdown()
    server.server_close()


@pytest.fixture
def shop(transactional_db, host_site):
    origin, _ = host_site
    cats = ensure_categories()
    prop = Property.objects.create(name="Demo shop", allowed_origins=origin)
    prop.categories.set(cats.values())
    for name, is_regex, cat in [
        ("_pa_id", False, "performance"),
        ("^_pa_ses_", True, "performance"),
        ("^_xa_", True, "targeting"),
    ]:
        CookieDeclaration.objects.create(
            property=prop,
            category=cats[cat],
            name=name,
            is_regex=is_regex,
            provider="Example",
            purpose="x",
            duration="1 day",
        )
    invalidate_banner_cache()
    return prop


@pytest.fixture
def shop_page(live_server, host_site, shop, page):
    _, publish = host_site
    url = publish(HOST_PAGE.format(portal=live_server.url, key=shop.key))
    return url


def open_host(page, url):
    page.goto(url)
    page.get_by_role("dialog").wait_for()


def records(prop, **filters):
    return list(ConsentRecord.objects.filter(property=prop, **filters).order_by("pk"))


def test_blocked_script_runs_only_after_its_category_is_accepted(page, shop_page, shop):
    open_host(page, shop_page)
    assert page.evaluate("window.perfRan") is None
    assert page.evaluate("window.PrivacyPortal.getConsent()") is None
    page.get_by_role("button", name="Customise").click()
    dialog = page.get_by_role("dialog")
    boxes = dialog.get_by_role("checkbox")
    assert [boxes.nth(i).is_checked() for i in range(boxes.count())] == [True, False, False, False]  # only necessary
    dialog.get_by_role("checkbox", name="Performance").check()
    dialog.get_by_role("button", name="Save choices").click()
    page.wait_for_function("window.perfRan === 1")
    assert page.evaluate("window.adsRan") is None
    assert page.locator("iframe").get_attribute("data-src") == "about:blank#ads"
    rec = wait_until(lambda: records(shop, method="custom"))[0]
    assert rec.choices == {"necessary": True, "features": False, "performance": True, "targeting": False}
    assert rec.page_url == shop_page
    # Next page view: the stored first-party choice applies at once, no banner.
    page.reload()
    page.wait_for_function("window.perfRan === 1")
    assert page.get_by_role("dialog").count() == 0
    assert page.get_by_role("button", name="Cookie settings").is_visible()
    assert "pp_consent" in page.evaluate("document.cookie")


def test_reject_all_keeps_scripts_blocked_and_is_recorded(page, shop_page, shop):
    open_host(page, shop_page)
    page.get_by_role("button", name="Reject all").click()
    rec = wait_until(lambda: records(shop, method="reject_all"))[0]
    assert rec.choices == {"necessary": True, "features": False, "performance": False, "targeting": False}
    assert rec.ip == "127.0.0.0" and rec.user_agent_family
    assert page.evaluate("window.perfRan") is None and page.evaluate("window.adsRan") is None
    assert page.evaluate("window.PrivacyPortal.getConsent().method") == "reject_all"
    assert str(rec.consent_id) == page.evaluate("window.PrivacyPortal.getConsent().id")


# What one click changes before the next paint, and what waits for it (cookie, outbox, Consent Mode, event).
CLICK_IN_ONE_TASK = """selector => new Promise(resolve => {
  const watch = new MutationObserver(() => {});
  watch.observe(document.documentElement, {subtree: true, childList: true, attributes: true, characterData: true});
  let events = 0;
  document.addEventListener('privacyportal:consent', () => events++);
  const state = () => ({
    cookie: document.cookie.includes('pp_consent='), events, outbox: localStorage.length,
    updates: window.dataLayer.filter(e => e[0] === 'consent' && e[1] === 'update').length,
    shown: document.querySelector('.ppc').dataset.l,
    visible: [...document.querySelectorAll('.ppc-box, .ppc-s, .ppc-pill')].filter(e => e.checkVisibility({visibilityProperty: true})).map(e => e.className),
  });
  document.querySelector(selector).click();  // dispatched and handled synchronously
  const changed = watch.takeRecords().map(m => m.type === 'attributes' ? m.attributeName : m.type);
  const during = state();
  requestAnimationFrame(() => setTimeout(() => setTimeout(() => resolve({changed, during, after: state()}))));
})"""


@pytest.mark.parametrize("action", ["reject", "accept"])
def test_a_choice_changes_one_attribute_in_the_click_and_the_rest_after_the_paint(page, shop_page, shop, action):
    open_host(page, shop_page)
    out = page.evaluate(CLICK_IN_ONE_TASK, f".ppc-box [data-action={action}]")
    # The banner leaves the page (one attribute); no node built, removed or moved, nothing else shown.
    assert out["changed"] == ["data-l"]
    assert out["during"] == {"cookie": False, "events": 0, "outbox": 0, "updates": 0, "shown": "x", "visible": []}
    # After the paint the notice is laid out again, hidden, and the reopen pill shows.
    assert out["after"]["cookie"] and out["after"]["events"] == 1 and out["after"]["updates"] == 1
    assert out["after"]["shown"] == "0" and out["after"]["visible"] == ["ppc-pill"]
    assert page.evaluate("getComputedStyle(document.querySelector('.ppc-box')).display") == "block"
    assert page.get_by_role("dialog").count() == 0
    assert page.get_by_role("button", name="Cookie settings").is_visible()
    rec = wait_until(lambda: records(shop))[0]
    assert rec.method == f"{action}_all" and rec.revision == 1


def test_opening_the_settings_changes_one_attribute_once_they_are_built(page, shop_page, shop):
    open_host(page, shop_page)
    # Built and laid out in idle time while the notice shows, hidden.
    page.wait_for_function("!!document.querySelector('.ppc-s')")
    assert page.get_by_role("dialog").count() == 1
    out = page.evaluate(CLICK_IN_ONE_TASK, ".ppc-box [data-action=customise]")
    assert out["changed"] == ["data-l"] and out["during"]["shown"] == "2" and out["during"]["visible"] == ["ppc-s"]
    assert page.evaluate("!!document.activeElement.closest('[role=dialog][aria-modal=true]')")
    page.get_by_role("checkbox", name="Performance").check()
    out = page.evaluate(CLICK_IN_ONE_TASK, ".ppc-s [data-action=save]")
    assert out["changed"] == ["data-l"] and out["during"]["visible"] == [] and not out["during"]["cookie"]
    assert out["after"]["cookie"] and out["after"]["visible"] == ["ppc-pill"]
    page.wait_for_function("window.perfRan === 1")
    assert wait_until(lambda: records(shop))[0].choices["performance"] is True


def test_a_choice_made_just_before_leaving_the_page_is_kept(page, shop_page, shop):
    open_host(page, shop_page)
    # The click and the navigation in one task: no paint comes between, the page goes away first.
    page.evaluate("document.querySelector('.ppc-box [data-action=accept]').click(); location.reload()")
    page.wait_for_load_state()
    page.wait_for_function("window.perfRan === 1")
    assert page.get_by_role("dialog").count() == 0
    assert wait_until(lambda: records(shop))[0].method == "accept_all"


def test_gpc_turns_targeting_off(page, shop_page, shop):
    page.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true, configurable: true})"
    )
    open_host(page, shop_page)
    assert page.get_by_role("dialog").get_by_text("Global Privacy Control").is_visible()
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function("window.perfRan === 1")
    consent = page.evaluate("window.PrivacyPortal.getConsent()")
    assert consent["categories"]["targeting"] is False and consent["categories"]["performance"] is True
    assert consent["gpc"] is True
    assert page.evaluate("window.adsRan") is None
    rec = wait_until(lambda: records(shop))[0]
    assert rec.gpc is True and rec.method == "gpc" and rec.choices["targeting"] is False


def test_consent_mode_default_comes_before_any_update(page, shop_page):
    open_host(page, shop_page)
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function("window.perfRan === 1")
    entries = page.evaluate(
        "window.dataLayer.filter(e => e && e[0] === 'consent').map(e => [e[0], e[1], Object.assign({}, e[2])])"
    )
    kinds = [e[1] for e in entries]
    assert kinds[0] == "default" and "update" in kinds
    default, update = entries[0][2], entries[kinds.index("update")][2]
    for key in ("ad_storage", "ad_user_data", "ad_personalization", "analytics_storage"):
        assert default[key] == "denied"
        assert update[key] == "granted"
    assert default["security_storage"] == "granted" and update["functionality_storage"] == "granted"


def test_first_in_head_without_defer_sets_the_default_before_any_google_tag(page, live_server, host_site, shop):
    """Consent Mode with tags that are not blocked: the snippet placed first in <head>, synchronously."""
    _, publish = host_site
    sync_head = HOST_PAGE.format(portal=live_server.url, key=shop.key).replace(
        'banner.js" defer></script>',
        'banner.js"></script>\n<script>window.dataLayer = window.dataLayer || [];'
        " function gtag(){dataLayer.push(arguments);} gtag('js', new Date()); gtag('config', 'G-TEST');</script>",
    )
    assert "G-TEST" in sync_head
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_host(page, publish(sync_head, "sync.html"))
    order = page.evaluate("window.dataLayer.map(e => e[0] + ':' + (typeof e[1] === 'string' ? e[1] : 'date'))")
    assert order[:3] == ["consent:default", "js:date", "config:G-TEST"]
    assert errors == []
    assert page.evaluate("window.perfRan") is None
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function("window.perfRan === 1")
    wait_until(lambda: len(records(shop)) == 1)
    # A returning visitor: the stored choice reaches Consent Mode before the page's own tags.
    page.reload()
    order = page.evaluate("window.dataLayer.map(e => e[0] + ':' + (typeof e[1] === 'string' ? e[1] : 'date'))")
    assert order[:3] == ["consent:default", "consent:update", "js:date"]
    page.wait_for_function("window.perfRan === 1")
    assert errors == []


def test_the_declaration_page_link_reopens_the_settings_on_the_website(page, live_server, shop_page, shop):
    open_host(page, shop_page)
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function("window.perfRan === 1")
    assert page.get_by_role("dialog").count() == 0
    page.goto(f"{live_server.url}/cookies/{shop.key}/")
    link = page.get_by_role("link", name="Change your cookie choices on Demo shop")
    assert link.get_attribute("href") == f"{shop_page.rsplit('/', 1)[0]}/#cookie-settings"
    page.goto(shop_page + "#cookie-settings")  # as following the link does, on a page with a stored choice
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert dialog.get_by_role("button", name="Reject all").is_visible()


def test_withdrawal_deletes_declared_cookies_and_events_fire(page, shop_page, shop):
    open_host(page, shop_page)
    page.evaluate(
        "window.events = []; document.addEventListener('privacyportal:consent', e => window.events.push(e.detail.method))"
    )
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function("document.cookie.includes('_pa_id') && document.cookie.includes('_xa_uid')")
    page.get_by_role("button", name="Cookie settings").click()
    page.get_by_role("button", name="Customise").click()
    page.get_by_role("checkbox", name="Targeting").uncheck()
    page.get_by_role("checkbox", name="Performance").uncheck()
    page.get_by_role("button", name="Save choices").click()
    # The clean-up runs after the banner has painted its answer to the click: wait for it, within a second.
    page.wait_for_function("() => !document.cookie.includes('_pa_id=')", timeout=1000)
    cookies = page.evaluate("document.cookie")
    assert "_pa_id" not in cookies and "_pa_ses_1" not in cookies and "_xa_uid" not in cookies
    assert "pp_consent" in cookies
    assert page.evaluate("window.events") == ["accept_all", "withdraw"]
    wait_until(lambda: records(shop, method="withdraw"))


def test_accept_category_api(page, shop_page):
    open_host(page, shop_page)
    page.evaluate("window.PrivacyPortal.acceptCategory('performance')")
    page.wait_for_function("window.perfRan === 1")
    assert page.evaluate("window.PrivacyPortal.getConsent().categories.targeting") is False
    # Blocked content added after the choice runs too, without a reload.
    page.evaluate(
        """(() => { const s = document.createElement('script'); s.type = 'text/plain';
        s.dataset.category = 'performance'; s.text = 'window.lateRan = true'; document.body.appendChild(s); })()"""
    )
    page.wait_for_function("window.lateRan === true")


def test_reprompt_after_revision_bump(page, shop_page, shop, settings):
    # No propagation window here: the browser asks again on each page view (the window has its own test).
    settings.CONSENT_BANNER_PROPAGATION_SECONDS = 0
    open_host(page, shop_page)
    page.get_by_role("button", name="Accept all").click()
    page.reload()
    page.wait_for_function("window.perfRan === 1")
    assert page.get_by_role("dialog").count() == 0
    record_revision(prop=shop, note="New advertising partner")
    page.reload()
    page.get_by_role("dialog").wait_for()
    assert page.evaluate("window.perfRan") is None  # the old choice no longer applies
    old_id = str(records(shop)[0].consent_id)
    page.get_by_role("button", name="Reject all").click()
    rec = wait_until(lambda: records(shop, revision=2))[0]
    assert str(rec.consent_id) == old_id and rec.method == "reject_all"
    assert "_pa_id" not in page.evaluate("document.cookie")  # cookies allowed under the old revision are gone


def test_reprompt_after_refusal_lifetime(page, shop_page, shop):
    shop.refusal_lifetime_days = 1
    shop.save()
    invalidate_banner_cache()
    open_host(page, shop_page)
    page.get_by_role("button", name="Reject all").click()
    # Age the stored choice by two days.
    page.evaluate(
        "(() => { const m = document.cookie.match(/pp_consent=([^;]*)/); const v = JSON.parse(decodeURIComponent(m[1]));"
        " v.t -= 2 * 864e5; document.cookie = 'pp_consent=' + encodeURIComponent(JSON.stringify(v)) + ';path=/'; })()"
    )
    page.reload()
    page.get_by_role("dialog").wait_for()


def test_whole_flow_by_keyboard_alone(page, shop_page, shop):
    open_host(page, shop_page)
    # On an embedding site focus starts in the banner; the first Tab reaches its first button.
    page.wait_for_function("!!document.activeElement.closest('[role=dialog]')")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Accept all"
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Customise":
            break
    else:
        pytest.fail("Customise is not reachable by Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("!!document.activeElement.closest('[role=dialog][aria-modal=true]')")
    # Focus stays inside the settings dialog.
    for _ in range(12):
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('[role=dialog]')")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Customise").focus()
    page.keyboard.press("Enter")
    while page.evaluate("document.activeElement.name") != "performance":
        page.keyboard.press("Tab")
    page.keyboard.press("Space")
    while page.evaluate("document.activeElement.textContent") != "Save choices":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_function("window.perfRan === 1")
    assert page.get_by_role("dialog").count() == 0
    wait_until(lambda: records(shop, method="custom"))
    # Reopen from the keyboard; focus returns to the opener afterwards.
    page.get_by_role("button", name="Cookie settings").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("!!document.activeElement.closest('[role=dialog]')")
    while page.evaluate("document.activeElement.textContent") != "Accept all":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_function("window.adsRan === true")
    assert page.evaluate("document.activeElement.textContent") == "Cookie settings"


def test_languages_follow_the_page(page, live_server, host_site, shop):
    _, publish = host_site
    url = publish(HOST_PAGE.format(portal=live_server.url, key=shop.key).replace('lang="en"', 'lang="fr"'), "fr.html")
    page.goto(url)
    page.get_by_role("button", name="Tout accepter").wait_for()
    page.get_by_role("button", name="Personnaliser").click()
    assert page.get_by_role("checkbox", name="Performance").count() == 1


def test_the_settings_show_the_cookie_details_in_the_page_s_language(page, live_server, host_site, shop):
    # Declarations the product supplies (the demo's) are stored in English and shown in the visitor's words.
    CookieDeclaration.objects.create(
        property=shop,
        category=shop.categories.get(key="performance"),
        name="_pa_stats",
        provider="This website",
        purpose="Distinguishes visitors for visit statistics.",
        duration="13 months",
    )
    invalidate_banner_cache()
    _, publish = host_site
    url = publish(
        HOST_PAGE.format(portal=live_server.url, key=shop.key).replace('lang="en"', 'lang="fr"'), "fr-cookies.html"
    )
    page.goto(url)
    page.get_by_role("button", name="Personnaliser").click()
    dialog = page.get_by_role("dialog", name="Paramètres des cookies")
    dialog.locator("details").filter(has_text="_pa_stats").locator("summary").click()
    item = dialog.get_by_role("listitem").filter(has_text="_pa_stats")
    item.wait_for()
    assert "Ce site web, 13 mois" in item.inner_text()
    assert "Distingue les visiteurs pour les statistiques de visite." in item.inner_text()
    # A text staff typed shows as typed.
    assert "Example, 1 day" in dialog.get_by_role("listitem").filter(has_text="_pa_id").inner_text()


def test_disallowed_origin_still_applies_choice_locally(page, live_server, host_site, shop):
    shop.allowed_origins = "https://elsewhere.example.com"
    shop.save()
    invalidate_banner_cache()
    _, publish = host_site
    url = publish(HOST_PAGE.format(portal=live_server.url, key=shop.key), "other.html")
    open_host(page, url)
    page.get_by_role("button", name="Accept all").click()
    page.wait_for_function("window.perfRan === 1")
    assert "pp_consent" in page.evaluate("document.cookie")
    page.wait_for_timeout(500)
    assert not records(shop)


def test_no_layout_shift(page, shop_page):
    page.goto(shop_page)
    page.get_by_role("dialog").wait_for()
    page.wait_for_timeout(300)
    shift = page.evaluate(
        """new Promise(r => { let s = 0; new PerformanceObserver(l => { for (const e of l.getEntries()) s += e.value; })
        .observe({type: 'layout-shift', buffered: true}); setTimeout(() => r(s), 300); })"""
    )
    assert shift < 0.01


@pytest.fixture(scope="session")
def axe_source():
    import shutil
    import subprocess

    target = CACHE_DIR / f"axe-core-{AXE_VERSION}.tgz"
    if not target.exists() and shutil.which("npm"):
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "pack", f"axe-core@{AXE_VERSION}", "--silent"], cwd=CACHE_DIR, capture_output=True, timeout=120
        )
    if not target.exists():
        pytest.skip(f"axe-core {AXE_VERSION} unavailable (run `npm pack axe-core@{AXE_VERSION}` in bench/.cache/)")
    with tarfile.open(target) as tar:
        return tar.extractfile("package/axe.min.js").read().decode()


def serious_violations(page, axe_source):
    page.add_script_tag(content=axe_source)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_axe_finds_no_serious_violation(page, shop_page, axe_source):
    open_host(page, shop_page)
    page.wait_for_timeout(300)  # let the entry animation finish before colour checks
    assert serious_violations(page, axe_source) == []
    page.get_by_role("button", name="Customise").click()
    page.locator("details").first.evaluate("d => d.open = true")
    page.wait_for_timeout(300)
    assert serious_violations(page, axe_source) == []


def test_portal_page_banner_under_strict_csp(page, live_server, transactional_db, settings):
    from consent.demo_data import seed

    class Out:
        def write(self, *_):
            pass

    seed(users=0, stdout=Out())
    settings.PORTAL_CONSENT_PROPERTY_KEY = ""
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.goto(f"{live_server.url}/cookies/")
    page.get_by_role("dialog").wait_for()
    page.wait_for_timeout(200)
    # On the portal's own pages the box is non-modal and leaves focus where it is (skip link first).
    assert page.evaluate("document.activeElement === document.body")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    page.get_by_role("button", name="Reject all").click()
    assert page.get_by_role("dialog").count() == 0
    page.get_by_role("button", name="Change your cookie choices").click()
    page.get_by_role("button", name="Accept all").wait_for()
    box = page.locator(".ppc-box").bounding_box()
    assert box["width"] <= 342
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e]
    wait_until(lambda: ConsentRecord.objects.filter(method="reject_all").exists())


@pytest.fixture
def csp_bypass_page(browser):
    """A page that may inject axe-core despite the portal's strict CSP (checked separately)."""
    context = browser.new_context(locale="en-GB", bypass_csp=True)
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


def test_portal_consent_pages_pass_axe(
    csp_bypass_page, live_server, transactional_db, settings, axe_source, user_factory
):
    page = csp_bypass_page
    from consent.demo_data import seed

    class Out:
        def write(self, *_):
            pass

    seed(users=0, stdout=Out())
    settings.PORTAL_CONSENT_PROPERTY_KEY = ""
    user = user_factory(email="axe@example.com")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email) if page.get_by_label(
        "E-mail address"
    ).count() else page.locator("input[name=login]").fill(user.email)
    page.locator("input[name=password]").fill("Correct-horse-42")
    page.locator("input[name=password]").press("Enter")
    page.wait_for_load_state()
    for path in ("/cookies/", "/third-parties/", "/account/consents/", "/account/email-preferences/"):
        page.goto(f"{live_server.url}{path}")
        page.get_by_role("dialog").wait_for()
        page.wait_for_timeout(300)
        assert serious_violations(page, axe_source) == [], path
    # Grant then withdraw from the consents page, each one click.
    page.goto(f"{live_server.url}/account/consents/")
    page.get_by_role("button", name=re.compile(r"Give consent\s*: Marketing e-mails")).click()
    page.get_by_role("button", name=re.compile(r"Withdraw consent\s*: Marketing e-mails")).click()
    page.get_by_role("button", name=re.compile(r"Give consent\s*: Marketing e-mails")).wait_for()


PARENT_HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<script src="{portal}/consent/{key}/banner.js" defer></script></head>
<body><main><h1>Shop</h1>
<script>
document.cookie = "_pa_id=host;path=/";
document.cookie = "_pa_id=parent;path=/;domain=.shop.example.test";
document.cookie = "_pa_ses_9=parent;path=/;domain=shop.example.test";
document.cookie = "_xa_uid=parent;path=/;domain=.shop.example.test";
document.cookie = "cart=keep;path=/;domain=.shop.example.test";
document.cookie = "_xa_here=folder";
</script>
</main></body></html>
"""


@pytest.fixture
def named_host_page(browser):
    """A page in a browser that resolves *.example.test to this machine, so host pages can have a parent domain."""
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    other = browser.browser_type.launch(
        executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP *.example.test 127.0.0.1"]
    )
    pg = other.new_context(locale="en-GB").new_page()
    pg.set_default_timeout(15000)
    yield pg
    other.close()


def test_withdrawal_deletes_cookies_on_the_domain_and_its_parent(named_host_page, live_server, host_site, shop):
    """On www.shop.example.test, declared cookies go by name and by pattern, on the host and on .shop.example.test."""
    page = named_host_page
    local_origin, publish = host_site
    origin = local_origin.replace("127.0.0.1", "www.shop.example.test")
    shop.allowed_origins = origin
    shop.save()
    invalidate_banner_cache()
    url = publish(PARENT_HOST_PAGE.format(portal=live_server.url, key=shop.key), "shop/parent.html")
    url = url.replace(local_origin, origin)
    open_host(page, url)
    page.get_by_role("button", name="Accept all").click()
    wait_until(lambda: records(shop, method="accept_all"))

    def names():
        return sorted((c["name"], c["domain"]) for c in page.context.cookies() if c["name"] != "pp_consent")

    assert ("_pa_id", ".shop.example.test") in names() and ("_pa_id", "www.shop.example.test") in names()
    assert ("_xa_uid", ".shop.example.test") in names() and ("_pa_ses_9", ".shop.example.test") in names()
    assert ("_xa_here", "www.shop.example.test") in names()  # set without a path: it belongs to /shop/
    page.evaluate("window.PrivacyPortal.show(true)")
    page.get_by_role("checkbox", name="Performance").uncheck()
    page.get_by_role("checkbox", name="Targeting").uncheck()
    page.get_by_role("button", name="Save choices").click()
    # The clean-up runs after the banner has painted its answer to the click: wait for it, within a second.
    page.wait_for_function("() => !document.cookie.includes('_pa_id=')", timeout=1000)
    assert names() == [("cart", ".shop.example.test")]  # undeclared cookies stay
    assert wait_until(lambda: records(shop, method="withdraw"))[0].page_url == url


def _stored_choice(origin: str, *, choices: dict, days_ago: int, revision: int = 1) -> dict:
    import json
    import time
    import urllib.parse

    value = {"i": "6f1c2b1e-1111-4222-8333-444455556666", "r": revision, "c": choices, "m": "custom"}
    value["t"] = int((time.time() - days_ago * 86400) * 1000)
    value["g"] = False
    return {"name": "pp_consent", "value": urllib.parse.quote(json.dumps(value)), "url": origin + "/"}


@pytest.mark.parametrize(
    ("accepted", "days_ago", "asked_again"),
    [
        (False, 170, False),  # a refusal stands for six months ...
        (False, 190, True),  # ... and is asked again after
        (True, 190, False),  # an acceptance stands for twelve months ...
        (True, 370, True),  # ... and is asked again after
    ],
)
def test_reprompt_after_the_default_lifetimes(page, host_site, shop_page, shop, accepted, days_ago, asked_again):
    assert (shop.refusal_lifetime_days, shop.acceptance_lifetime_days) == (183, 365)
    origin, _ = host_site
    choices = {"necessary": True, "features": False, "performance": accepted, "targeting": False}
    page.context.add_cookies([_stored_choice(origin, choices=choices, days_ago=days_ago)])
    page.goto(shop_page)
    page.wait_for_function("!!document.querySelector('.ppc')")
    page.wait_for_timeout(300)
    assert (page.get_by_role("dialog").count() == 1) is asked_again
    if asked_again:
        assert page.evaluate("window.perfRan") is None and page.evaluate("window.PrivacyPortal.getConsent()") is None
    else:
        assert page.evaluate("window.PrivacyPortal.getConsent().categories.performance") is accepted


@pytest.mark.parametrize(
    ("page_lang", "browser_locale", "accept_all"),
    [
        ("nl", "en-GB", "Alles accepteren"),
        ("de", "en-GB", "Alle akzeptieren"),
        ("fr", "de-DE", "Tout accepter"),  # the page's language wins over the browser's
        ("", "de-DE", "Alle akzeptieren"),
        ("", "nl-BE", "Alles accepteren"),
        ("", "fr-CA", "Tout accepter"),
        ("", "ja-JP", "Accept all"),  # neither known: the property's default language
    ],
)
def test_language_from_the_page_or_the_browser(
    browser, live_server, host_site, shop, page_lang, browser_locale, accept_all
):
    _, publish = host_site
    html = HOST_PAGE.format(portal=live_server.url, key=shop.key).replace('lang="en"', f'lang="{page_lang}"')
    url = publish(html, f"lang-{page_lang or 'none'}-{browser_locale}.html")
    context = browser.new_context(locale=browser_locale)
    try:
        pg = context.new_page()
        pg.goto(url)
        pg.get_by_role("button", name=accept_all, exact=True).wait_for(timeout=15000)
    finally:
        context.close()


def test_images_and_frames_load_only_after_consent(page, live_server, host_site, shop):
    _, publish = host_site
    pixel = f"{live_server.url}/static/consent/banner.css?pixel"
    html = HOST_PAGE.format(portal=live_server.url, key=shop.key).replace(
        "</main>", f'<img data-category="performance" data-src="{pixel}" alt="" id="px"></main>'
    )
    requested = []
    page.on("request", lambda r: "?pixel" in r.url and requested.append(r.url))
    open_host(page, publish(html, "img.html"))
    page.wait_for_timeout(300)
    assert requested == [] and page.locator("#px").get_attribute("src") is None
    assert page.locator("iframe").get_attribute("src") is None
    page.get_by_role("button", name="Reject all").click()
    page.wait_for_timeout(300)
    assert requested == [] and page.locator("#px").get_attribute("src") is None
    page.evaluate("window.PrivacyPortal.acceptCategory('performance')")
    page.wait_for_function("document.getElementById('px').getAttribute('src')")
    assert requested == [pixel]
    assert page.locator("iframe").get_attribute("src") is None  # targeting is still refused
    page.evaluate("window.PrivacyPortal.acceptCategory('targeting')")
    page.wait_for_function("document.querySelector('iframe').getAttribute('src') === 'about:blank#ads'")


def test_cookie_settings_link_on_the_host_page_reopens_and_gets_focus_back(page, live_server, host_site, shop):
    _, publish = host_site
    html = HOST_PAGE.format(portal=live_server.url, key=shop.key).replace(
        "</main>", '<footer><a href="#" data-pp-open id="settings">Cookie settings</a></footer></main>'
    )
    open_host(page, publish(html, "link.html"))
    page.get_by_role("button", name="Reject all").click()
    assert page.get_by_role("dialog").count() == 0
    assert page.locator(".ppc-pill").count() == 0  # the page has its own link, so no floating button
    page.locator("#settings").focus()
    page.keyboard.press("Enter")
    page.get_by_role("dialog").wait_for()
    page.get_by_role("button", name="Customise").click()
    dialog = page.get_by_role("dialog")
    assert dialog.get_attribute("aria-modal") == "true"
    # Shift+Tab from the first control wraps to the last, Tab from the last wraps to the first.
    page.keyboard.press("Tab")
    first = page.evaluate("document.activeElement.outerHTML")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.textContent") == "Save choices"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.outerHTML") == first
    page.keyboard.press("Escape")
    assert page.get_by_role("dialog").count() == 0
    assert page.evaluate("document.activeElement.id") == "settings"
    assert page.url.endswith("link.html")  # the link's own navigation was cancelled


@pytest.mark.parametrize(("motion", "animation"), [("reduce", "none"), ("no-preference", "ppc-in")])
def test_reduced_motion_is_respected(page, shop_page, motion, animation):
    page.emulate_media(reduced_motion=motion)
    open_host(page, shop_page)
    assert page.evaluate("getComputedStyle(document.querySelector('.ppc-box')).animationName") == animation


def test_settings_show_the_consent_id_staff_can_look_up(page, shop_page, shop):
    open_host(page, shop_page)
    page.get_by_role("button", name="Customise").click()
    assert "consent id" not in page.get_by_role("dialog").inner_text()  # nothing chosen, nothing to quote yet
    page.get_by_role("button", name="Reject all").click()
    rec = wait_until(lambda: records(shop, method="reject_all"))[0]
    page.get_by_role("button", name="Cookie settings").click()
    page.get_by_role("button", name="Customise").click()
    assert f"Your consent id: {rec.consent_id}" in page.get_by_role("dialog").inner_text()


# --- delivery: one request, cached for the propagation window, proof kept through an outage -------------


@pytest.fixture
def portal_hits(live_server):
    """The paths of the requests the live portal receives (the server side of "no request to the portal")."""
    from django.core.signals import request_started

    hits = []

    def seen(sender, environ, **kwargs):
        hits.append(environ["PATH_INFO"])

    request_started.connect(seen, weak=False)
    yield hits
    request_started.disconnect(seen)


def test_a_repeat_page_view_asks_the_portal_nothing(page, shop_page, shop, portal_hits):
    open_host(page, shop_page)
    # One round trip: the styles come inside the script.
    assert [p for p in portal_hits if "/api/" not in p] == [f"/consent/{shop.key}/banner.js"]
    portal_hits.clear()
    again = page.context.new_page()
    open_host(again, shop_page)
    assert again.locator(".ppc").evaluate("e => getComputedStyle(e).position") == "fixed"  # styled
    again.wait_for_timeout(500)
    assert portal_hits == []


def test_a_new_revision_reaches_visitors_within_the_window(page, shop_page, shop, settings, portal_hits):
    settings.CONSENT_BANNER_PROPAGATION_SECONDS = 4
    open_host(page, shop_page)
    page.get_by_role("button", name="Accept all").click()
    wait_until(lambda: records(shop))
    record_revision(prop=shop, note="New advertising partner")
    # Within the window the visitor's browser keeps the script it has: the old revision, no request.
    portal_hits.clear()
    second = page.context.new_page()
    second.goto(shop_page)
    second.wait_for_function("window.perfRan === 1")
    assert second.get_by_role("dialog").count() == 0
    assert not [p for p in portal_hits if p.endswith("banner.js")]
    # Once it has passed, the next page view asks again, and the choice is recorded against revision 2.
    page.wait_for_timeout(4500)
    third = page.context.new_page()
    open_host(third, shop_page)
    assert third.evaluate("window.perfRan") is None
    third.get_by_role("button", name="Reject all").click()
    assert wait_until(lambda: records(shop, revision=2))[0].method == "reject_all"


def _pump(pg, predicate, timeout: float = 15.0):
    # Route handlers run only while the test thread is inside Playwright, so wait through it, not with sleep.
    for _ in range(int(timeout * 10)):
        if predicate():
            return
        pg.wait_for_timeout(100)
    raise AssertionError("condition not met")


@pytest.mark.parametrize("outage", ["503", "no answer"])
def test_a_choice_made_while_the_portal_is_down_is_sent_on_the_next_page_view(page, shop_page, shop, outage):
    posts = []

    def down(route):
        posts.append(route.request.url)
        route.fulfill(status=503, body="down") if outage == "503" else route.abort("connectionrefused")

    page.route(re.compile(r".*/api/consent/.*/records$"), down)
    open_host(page, shop_page)
    page.get_by_role("button", name="Accept all").click()
    _pump(page, lambda: posts)
    page.wait_for_timeout(300)
    assert records(shop) == []
    assert page.evaluate("window.perfRan") == 1  # the choice applies locally all the same
    consent_id = page.evaluate("PrivacyPortal.getConsent().id")
    page.unroute(re.compile(r".*/api/consent/.*/records$"))
    page.goto(shop_page)  # the next page view
    rec = wait_until(lambda: records(shop))
    page.wait_for_function(f"localStorage.getItem('pp_outbox_{shop.key}') === null")
    assert len(records(shop)) == 1
    assert str(rec[0].consent_id) == consent_id and rec[0].revision == 1 and rec[0].method == "accept_all"


def test_a_choice_whose_answer_was_lost_is_not_recorded_twice(page, shop_page, shop):
    def lost(route):
        # The portal records it ...
        req = route.request
        headers = {k: v for k, v in req.headers.items() if k.lower() in ("content-type", "origin", "user-agent")}
        urllib.request.urlopen(urllib.request.Request(req.url, data=req.post_data_buffer, headers=headers), timeout=30)
        route.abort("connectionreset")  # ... but the browser never hears back

    page.route(re.compile(r".*/api/consent/.*/records$"), lost)
    open_host(page, shop_page)
    page.get_by_role("button", name="Reject all").click()
    _pump(page, lambda: records(shop))
    page.unroute(re.compile(r".*/api/consent/.*/records$"))
    page.goto(shop_page)
    page.wait_for_function(f"localStorage.getItem('pp_outbox_{shop.key}') === null")
    page.wait_for_timeout(500)
    assert len(records(shop)) == 1


def test_staff_text_that_looks_like_code_shows_as_text(page, shop_page, shop):
    from consent.models import Category

    name = "Statistics __STRINGS__ </script><!-- \u2028 \"quoted\" 'x' ${x}"
    Category.objects.filter(key="performance").update(name={"en": name})
    invalidate_banner_cache()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_host(page, shop_page)
    page.get_by_role("button", name="Customise").click()
    label = page.locator(".ppc-c label", has=page.locator('input[name="performance"]'))
    assert label.inner_text().strip() == name.replace("\u2028", " ").strip() or name.split(" ")[0] in label.inner_text()
    assert "__STRINGS__ </script><!--" in label.inner_text()
    assert errors == []


def test_the_banner_keeps_its_design_variables_to_itself(page, live_server, host_site, shop):
    """The banner declares the portal's variables on itself: a host page's cannot restyle it, ours stay out."""
    _, publish = host_site
    html = HOST_PAGE.format(portal=live_server.url, key=shop.key).replace(
        "</head>", "<style>:root{--pp-accent:#ff0000;--pp-bg:#000000}</style></head>"
    )
    open_host(page, publish(html, "vars.html"))
    accept = page.get_by_role("button", name="Accept all")
    assert accept.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(11, 92, 173)"
    assert page.locator(".ppc-box").evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(255, 255, 255)"
    plain = publish(HOST_PAGE.format(portal=live_server.url, key=shop.key), "plain.html")
    open_host(page, plain)
    assert page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--pp-accent')") == ""
