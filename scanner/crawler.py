"""The crawl itself: headless Chromium (Playwright) visits each page once per consent state, in a fresh context.

It presses the banner's own buttons by their visible names, as a visitor would, and records what each state
left behind: cookies, storage keys, requests. It reads and writes nothing in the database: progress goes
out through a callback (the caller checkpoints it), so a scan resumes where it stopped.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
import urllib.error
import urllib.request
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scanner.rules import ACCEPT_ALL, GPC, NO_CHOICE, REJECT_ALL, STATES, origin_of

logger = logging.getLogger(__name__)

USER_AGENT_TOKEN = "PrivacyPortalScanner/1.0"
DEBIAN_CHROMIUM = "/usr/bin/chromium"
SKIP_EXTENSIONS = re.compile(
    r"\.(?:pdf|zip|gz|tgz|png|jpe?g|gif|webp|svg|ico|mp4|mp3|webm|avi|mov|css|js|json|xml|txt|docx?|xlsx?|pptx?)$",
    re.I,
)
# Records, in every frame, which script set each cookie through document.cookie (the evidence for a finding),
# without changing what the page sees.
COOKIE_HOOK = r"""
(() => {
  const d = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  if (!d || !d.set || window.__ppScanCookies) return;
  const log = [];
  Object.defineProperty(window, '__ppScanCookies', {value: log});
  Object.defineProperty(Document.prototype, 'cookie', {
    configurable: true, enumerable: d.enumerable, get: d.get,
    set(value) {
      try {
        const name = String(value).split(';')[0].split('=')[0].trim();
        const frames = (new Error().stack || '').split('\n').slice(1)
          .map(line => (line.match(/(https?:\/\/[^\s)]+?:\d+:\d+)/) || [])[1]).filter(Boolean);
        if (log.length < 500) log.push([name, frames[0] || location.href]);
      } catch (e) { /* evidence only */ }
      return d.set.call(this, value);
    },
  });
})();
"""
GPC_HOOK = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true, configurable: true});"
STORAGE_JS = """() => { try { return [location.origin, Object.keys(localStorage), Object.keys(sessionStorage)]; }
  catch (e) { return null; } }"""
# Largest Contentful Paint, layout shifts and the moment the banner's first button could be pressed.
COST_HOOK = r"""
(() => {
  const m = window.__ppScanCost = {lcp: 0, cls: 0, interactive: null};
  try {
    new PerformanceObserver(l => { for (const e of l.getEntries()) m.lcp = e.startTime; })
      .observe({type: 'largest-contentful-paint', buffered: true});
    new PerformanceObserver(l => { for (const e of l.getEntries()) if (!e.hadRecentInput) m.cls += e.value; })
      .observe({type: 'layout-shift', buffered: true});
  } catch (e) { /* an engine without these entries */ }
  const look = () => {
    const b = document.querySelector('.ppc button[data-action="accept"]');
    if (b && b.offsetParent !== null) { m.interactive = performance.now(); return true; }
    return false;
  };
  const tick = () => { if (!look()) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
})();
"""


class ChromiumMissing(Exception):
    """No browser to scan with: the message says what to install."""


INSTALL_HINT = gettext_lazy(
    "Install Chromium to scan websites: on Debian or Ubuntu `apt-get install chromium`, or "
    "`python -m playwright install --with-deps chromium` in the portal's virtualenv; "
    "or set SCANNER_CHROMIUM to the path of a Chromium binary."
)


def chromium_path() -> str | None:
    """The Chromium binary the scanner launches; None means Playwright's own download."""
    if settings.SCANNER_CHROMIUM:
        return settings.SCANNER_CHROMIUM
    if Path(DEBIAN_CHROMIUM).exists():
        return DEBIAN_CHROMIUM
    return shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_problem() -> str:
    """Why a scan cannot start here ("" when Chromium and Playwright are installed)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return _("The Python package playwright is not installed (pip install -r requirements.txt).")
    path = chromium_path()
    if path:
        return (
            ""
            if Path(path).exists()
            else _("Chromium was not found at %(path)s. %(hint)s")
            % {
                "path": path,
                "hint": str(INSTALL_HINT),
            }
        )
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            bundled = p.chromium.executable_path
    except Exception as exc:  # the driver itself is broken
        return f"{str(INSTALL_HINT)} ({exc})"
    return "" if bundled and Path(bundled).exists() else str(INSTALL_HINT)


def launch(p):
    """Start headless Chromium; ChromiumMissing when there is none."""
    from playwright.sync_api import Error as PlaywrightError

    args = ["--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to start as root with its sandbox on
    path = chromium_path()
    if path and not Path(path).exists():
        raise ChromiumMissing(
            _("Chromium was not found at %(path)s. %(hint)s") % {"path": path, "hint": str(INSTALL_HINT)}
        )
    try:
        return p.chromium.launch(executable_path=path, headless=True, args=args)
    except PlaywrightError as exc:
        if "Executable doesn't exist" in str(exc) or "executable" in str(exc).lower():
            raise ChromiumMissing(str(INSTALL_HINT))
        raise


@dataclass
class CrawlPlan:
    """What to crawl and how: start pages, where the crawl may go, limits, the banner's button names."""

    start_urls: list[str]
    allowed_origins: set[str]
    max_pages: int
    accept_names: list[str]
    reject_names: list[str]
    banner_url_pattern: str = r"/consent/[^/]+/banner\.js"
    respect_robots: bool = True
    host_interval: float = 1.0
    page_timeout: float = 30.0
    cost_pages: int = 5  # the banner's cost is measured on the first pages only: four more loads each
    deadline: float | None = None  # time.monotonic() after which no new page starts
    robots: dict = field(default_factory=dict)


def normalise(url: str) -> str:
    url, _frag = urldefrag(url.strip())
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    path = parts.path or "/"
    return f"{origin_of(url)}{path}" + (f"?{parts.query}" if parts.query else "")


def _fetch_text(url: str, timeout: float = 5.0, limit: int = 2_000_000) -> str | None:
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT_TOKEN})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (http(s) only, checked by callers)
            if origin_of(resp.geturl()) != origin_of(url):
                return None  # redirected off the origin: not this website's file
            return resp.read(limit).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError, ValueError):
        return None


def robots_for(origin: str, plan: CrawlPlan) -> urllib.robotparser.RobotFileParser:
    if origin not in plan.robots:
        parser = urllib.robotparser.RobotFileParser()
        text = _fetch_text(origin + "/robots.txt")
        parser.parse((text or "").splitlines())
        plan.robots[origin] = parser
    return plan.robots[origin]


def allowed_by_robots(url: str, plan: CrawlPlan) -> bool:
    if not plan.respect_robots:
        return True
    return robots_for(origin_of(url), plan).can_fetch(USER_AGENT_TOKEN, url)


def sitemap_urls(origin: str, plan: CrawlPlan, limit: int = 500) -> list[str]:
    """Same-origin page URLs from the origin's sitemap.xml (and the sitemaps robots.txt names), one level deep."""
    maps = [origin + "/sitemap.xml"]
    if plan.respect_robots:
        maps += [m for m in (robots_for(origin, plan).site_maps() or []) if origin_of(m) == origin]
    out, done = [], set()
    while maps and len(done) < 6:
        sm = maps.pop(0)
        if sm in done:
            continue
        done.add(sm)
        text = _fetch_text(sm) or ""
        for loc in re.findall(r"<loc>\s*([^<\s]+)\s*</loc>", text):
            loc = normalise(loc.replace("&amp;", "&"))
            if not loc or origin_of(loc) != origin:
                continue
            if loc.endswith(".xml"):
                maps.append(loc)
            elif loc not in out:
                out.append(loc)
            if len(out) >= limit:
                return out
    return out


class HostRate:
    """At most one page load per host every ``interval`` seconds."""

    def __init__(self, interval: float):
        self.interval, self.last = interval, {}

    def wait(self, url: str) -> None:
        host = urlsplit(url).netloc
        gap = self.interval - (time.monotonic() - self.last.get(host, -1e9))
        if gap > 0:
            time.sleep(gap)
        self.last[host] = time.monotonic()


def _names_re(names: list[str]) -> re.Pattern:
    return re.compile("^(?:" + "|".join(re.escape(n) for n in names) + ")$")


def _quiet(page, seen: list, rounds: int = 12) -> None:
    # Wait until no request has started for half a second (at most ~6 s): late tags and the banner's
    # unblocking after a click run after the load event, so the load event alone is not enough.
    for _i in range(rounds):
        count = len(seen)
        page.wait_for_timeout(500)
        if len(seen) == count:
            return


def _storage(page) -> list[dict]:
    out = []
    for frame in page.frames:
        try:
            got = frame.evaluate(STORAGE_JS)
        except Exception:  # a frame that went away
            continue
        if not got or got[0] in ("null", ""):
            continue
        origin, local, session = got
        out += [{"area": "local", "origin": origin, "key": k} for k in local]
        out += [{"area": "session", "origin": origin, "key": k} for k in session]
    return out


def _script_evidence(page, into: dict, banner: re.Pattern) -> None:
    for frame in page.frames:
        try:
            log = frame.evaluate("() => window.__ppScanCookies || []")
        except Exception:
            continue
        for name, source in log:
            if banner.search(source) and not name.startswith("pp_"):
                # The banner runs a blocked script by inserting it, so the stack names the banner.
                into.setdefault(name, f"document.cookie = '{name}=…' by a blocked script the banner ran ({source})")
            else:
                into.setdefault(name, f"document.cookie = '{name}=…' by the script at {source}")


def _header_evidence(responses: list, into: dict) -> None:
    for response in responses[:300]:
        try:
            headers = response.headers_array()
        except Exception:
            continue
        for h in headers:
            if h["name"].lower() != "set-cookie":
                continue
            for line in h["value"].split("\n"):
                name, _eq, rest = line.partition("=")
                attrs = rest.partition(";")[2].strip()
                into.setdefault(
                    name.strip(),
                    f"Set-Cookie: {name.strip()}=…{'; ' + attrs if attrs else ''} (response of {response.url[:300]})",
                )


def _cookies(context) -> list[dict]:
    now = time.time()
    out = []
    for c in context.cookies():
        expires = c.get("expires", -1)
        out.append(
            {
                "name": c["name"],
                "domain": c["domain"],
                "path": c.get("path") or "/",
                "httpOnly": c.get("httpOnly", False),
                "secure": c.get("secure", False),
                "sameSite": c.get("sameSite", ""),
                "lifetime_seconds": None if expires is None or expires < 0 else max(0.0, expires - now),
            }
        )
    return out


def _open(browser, state: str, plan: CrawlPlan):
    gpc = state == GPC
    context = browser.new_context(
        locale="en-GB",
        extra_http_headers={"Sec-GPC": "1"} if gpc else None,
        viewport={"width": 1280, "height": 800},
    )
    context.add_init_script(COOKIE_HOOK + (GPC_HOOK if gpc else ""))
    context.set_default_timeout(plan.page_timeout * 1000)
    return context


def scan_page(
    browser, url: str, plan: CrawlPlan, rate: HostRate, *, screenshot: bool = False, measure: bool = False
) -> dict:
    """Visit one page in the four consent states; returns what each state left behind (no cookie values)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    accept, reject = _names_re(plan.accept_names), _names_re(plan.reject_names)
    banner_re = re.compile(plan.banner_url_pattern)
    result: dict = {"url": url, "banner_shown": False, "links": [], "states": {}, "screenshot": None}
    for state in STATES:
        context = _open(browser, state, plan)
        requests: list[str] = []
        responses: list = []
        context.on("request", lambda r, requests=requests: requests.append(r.url))
        context.on("response", lambda r, responses=responses: responses.append(r))
        evidence: dict = {}
        pressed = False
        try:
            page = context.new_page()
            rate.wait(url)
            page.goto(url, wait_until="load")
            dialog = page.get_by_role("dialog")
            try:
                dialog.get_by_role("button", name=accept).first.wait_for(state="visible", timeout=10000)
                shown = True
            except PlaywrightTimeout:
                shown = False
            _quiet(page, requests)
            mark = 0
            if state == NO_CHOICE:
                result["banner_shown"] = shown
                try:
                    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
                except Exception:
                    hrefs = []
                result["links"] = [h for h in (normalise(urljoin(url, h)) for h in hrefs[:1000]) if h]
                if screenshot:
                    result["screenshot"] = page.screenshot(type="png")
            elif state in (REJECT_ALL, ACCEPT_ALL) and shown:
                mark = len(requests)
                dialog.get_by_role("button", name=reject if state == REJECT_ALL else accept).first.click()
                pressed = True
                page.wait_for_timeout(300)
                _quiet(page, requests)
                _script_evidence(page, evidence, banner_re)
                rate.wait(url)
                page.reload(wait_until="load")  # the next page view, with the choice stored
                _quiet(page, requests)
            _script_evidence(page, evidence, banner_re)
            _header_evidence(responses, evidence)
            result["states"][state] = {
                "pressed": pressed,
                "cookies": _cookies(context),
                "storage": _storage(page),
                "requests": sorted(set(requests[mark:])),
                "evidence": evidence,
            }
        except Exception as exc:  # one page that fails does not end the scan
            logger.warning("Scan of %s in state %s failed: %s", url, state, exc)
            result["states"][state] = {"error": str(exc)[:500], "cookies": [], "storage": [], "requests": []}
        finally:
            context.close()
    if measure:
        result["cost"] = measure_cost(browser, url, plan, rate)
    return result


def _cost_once(browser, url: str, plan: CrawlPlan, rate: HostRate, *, block_banner: bool) -> dict | None:
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(plan.page_timeout * 1000)
    context.add_init_script(COST_HOOK)
    try:
        if block_banner:
            pattern = re.compile(plan.banner_url_pattern)
            context.route(lambda u: bool(pattern.search(u)), lambda route: route.abort())
        page = context.new_page()
        rate.wait(url)
        page.goto(url, wait_until="load")
        if not block_banner:
            try:
                page.locator('.ppc button[data-action="accept"]').first.wait_for(state="visible", timeout=10000)
            except Exception:
                pass
        page.wait_for_timeout(700)
        got = page.evaluate("() => window.__ppScanCost")
        return {
            "lcp_ms": round(got["lcp"], 1),
            "cls": round(got["cls"], 4),
            "banner_interactive_ms": None if got["interactive"] is None else round(got["interactive"], 1),
        }
    except Exception as exc:
        logger.warning("Could not measure %s: %s", url, exc)
        return None
    finally:
        context.close()


def measure_cost(browser, url: str, plan: CrawlPlan, rate: HostRate) -> dict:
    """LCP and CLS with the banner script blocked and with it, and the time until its buttons can be pressed."""
    # Two rounds, alternating, best of each: the first load of a page also pays for cold caches.
    runs = {True: [], False: []}
    for _round in range(2):
        for blocked in (True, False):
            got = _cost_once(browser, url, plan, rate, block_banner=blocked)
            if got:
                runs[blocked].append(got)

    def best(found: list[dict]) -> dict | None:
        if not found:
            return None
        return {
            "lcp_ms": min(r["lcp_ms"] for r in found),
            "cls": min(r["cls"] for r in found),
            "banner_interactive_ms": min(
                (r["banner_interactive_ms"] for r in found if r["banner_interactive_ms"] is not None), default=None
            ),
        }

    without, with_banner = best(runs[True]), best(runs[False])
    out = {"without_banner": without, "with_banner": with_banner}
    if without and with_banner:
        out["lcp_added_ms"] = round(with_banner["lcp_ms"] - without["lcp_ms"], 1)
        out["cls_added"] = round(with_banner["cls"] - without["cls"], 4)
    return out


def crawl(
    plan: CrawlPlan,
    *,
    progress: dict,
    checkpoint: Callable[[dict, bytes | None], None] = lambda progress, shot: None,
) -> dict:
    """Crawl until the page limit, the deadline, or no page is left; ``progress`` is the checkpoint to resume from.

    ``progress`` holds ``queue`` (pages still to visit), ``known`` (every page ever queued) and ``pages``
    (what each visited page showed). ``checkpoint(progress, screenshot)`` is called after every page.
    Returns ``progress``, with ``complete`` true once nothing is left to do.
    """
    from playwright.sync_api import sync_playwright

    pages: dict = progress.setdefault("pages", {})
    if "queue" not in progress:
        queue: list[str] = []
        for u in plan.start_urls:
            u = normalise(u)
            if u and u not in queue:
                queue.append(u)
        for origin in sorted(plan.allowed_origins):
            for u in sitemap_urls(origin, plan):
                if u not in queue and allowed_by_robots(u, plan):
                    queue.append(u)
        progress["queue"], progress["known"] = queue, list(queue)
    queue, known = progress["queue"], set(progress["known"])
    progress["complete"] = False
    rate = HostRate(plan.host_interval)
    with sync_playwright() as p:
        browser = launch(p)
        try:
            this_run = 0
            while queue and len(pages) < plan.max_pages:
                # At least one page per run, so that a scan always moves on, however short its time.
                if this_run and plan.deadline is not None and time.monotonic() > plan.deadline:
                    return progress
                url = queue.pop(0)
                if url in pages or origin_of(url) not in plan.allowed_origins:
                    continue
                logger.info("Scanning %s (%d of at most %d)", url, len(pages) + 1, plan.max_pages)
                seen = scan_page(
                    browser,
                    url,
                    plan,
                    rate,
                    screenshot=not pages,
                    measure=len(pages) < plan.cost_pages,
                )
                shot = seen.pop("screenshot", None)
                for link in seen.pop("links", []):
                    if (
                        link not in known
                        and origin_of(link) in plan.allowed_origins
                        and not SKIP_EXTENSIONS.search(urlsplit(link).path)
                        and allowed_by_robots(link, plan)
                    ):
                        known.add(link)
                        queue.append(link)
                pages[url] = seen
                this_run += 1
                progress["known"] = sorted(known)
                checkpoint(progress, shot)
        finally:
            browser.close()
    progress["complete"] = True
    return progress
