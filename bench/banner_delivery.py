"""Banner delivery: what the banner costs a host page, side by side with the same page without a banner.

Needs a running portal (`make run`, or gunicorn) and headless Chromium at /usr/bin/chromium:

    .venv/bin/python bench/banner_delivery.py [--portal http://127.0.0.1:8000] [--key KEY] [--visits 5] [--write]

A host article page is served from a second origin. Each visit is a fresh browser context; variants are
interleaved, at 1,366 px and at 390 px with 4x CPU throttling. Measured per visit: bytes on the wire from the
portal, requests to the portal on the first page view and on a repeat one, LCP (paired with the no-banner
visit of the same round), CLS, and click to next paint (Event Timing) for Reject all and Accept all.
vanilla-cookieconsent 3.1.0 (the package `bench/banner_weight.py` fetches with `npm pack` into bench/.cache/) runs
in the same rounds, from the host's origin, with the same button names; it is left out when the package cannot be
had. `--write` replaces the figures of the "Banner delivery" section of bench/README.md.
"""

import argparse
import functools
import http.server
import re
import statistics
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORTS = {"desktop 1366 px": (1366, 768, 1), "mobile 390 px, 4x CPU": (390, 844, 4)}

# Collected in the page from the start: LCP, CLS and slow interactions (Event Timing reports those >= 16 ms).
OBSERVERS = """
window.__m = {lcp: 0, cls: 0, events: []};
new PerformanceObserver(l => l.getEntries().forEach(e => __m.lcp = e.startTime)).observe({type: 'largest-contentful-paint', buffered: true});
new PerformanceObserver(l => l.getEntries().forEach(e => { if (!e.hadRecentInput) __m.cls += e.value; })).observe({type: 'layout-shift', buffered: true});
new PerformanceObserver(l => l.getEntries().forEach(e => __m.events.push([e.name, e.duration]))).observe({type: 'event', durationThreshold: 16, buffered: true});
"""

ARTICLE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>An article</title>
<style>body{{font:17px/1.6 Georgia,serif;max-width:42rem;margin:2rem auto;padding:0 1rem}}h1{{font-size:2rem}}</style>
{banner}</head><body><main><h1>What a retention policy promises</h1>
{paragraphs}</main></body></html>"""


# vanilla-cookieconsent configured like our banner: the same four categories and button names.
THEIRS_RUN = """CookieConsent.run({
  hideFromBots: false,  // it hides itself from automated browsers by default
  categories: {necessary: {enabled: true, readOnly: true}, functionality: {}, analytics: {}, marketing: {}},
  language: {default: 'en', translations: {en: {
    consentModal: {title: 'Your privacy choices', description: 'We use cookies to run this site.',
      acceptAllBtn: 'Accept all', acceptNecessaryBtn: 'Reject all', showPreferencesBtn: 'Customise'},
    preferencesModal: {title: 'Cookie settings', acceptAllBtn: 'Accept all', acceptNecessaryBtn: 'Reject all',
      savePreferencesBtn: 'Save choices', sections: [
        {title: 'Necessary', description: 'Needed for the site to work.', linkedCategory: 'necessary'},
        {title: 'Features', description: 'Remember your settings.', linkedCategory: 'functionality'},
        {title: 'Performance', description: 'Measure visits.', linkedCategory: 'analytics'},
        {title: 'Targeting', description: 'Show relevant ads.', linkedCategory: 'marketing'}]}}}}
});"""


def reference_assets(site: str) -> bool:
    """vanilla-cookieconsent's script and stylesheet in the host's folder; False when the package is unavailable."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from banner_weight import reference_files

        files = reference_files()
    except Exception as error:  # noqa: BLE001 - no npm, no network: the comparison is optional
        print(f"vanilla-cookieconsent left out: {error}")
        return False
    for name, body in files.items():
        Path(site, name).write_bytes(body)
    Path(site, "theirs-run.js").write_text(THEIRS_RUN, encoding="utf-8")
    return True


def host_pages(portal: str, key: str) -> tuple[str, bool]:
    site = tempfile.mkdtemp()
    paragraphs = "<p>Some text of the article, long enough to read, about keeping data only as long as needed.</p>" * 40
    pages = [("none.html", ""), ("ours.html", f'<script src="{portal}/consent/{key}/banner.js" defer></script>')]
    theirs = reference_assets(site)
    if theirs:
        pages.append(
            (
                "theirs.html",
                '<link rel="stylesheet" href="cookieconsent.css"><script src="cookieconsent.umd.js" defer></script>'
                '<script src="theirs-run.js" defer></script>',
            )
        )
    for name, banner in pages:
        Path(site, name).write_text(ARTICLE.format(banner=banner, paragraphs=paragraphs), encoding="utf-8")
    return site, theirs


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def visit(browser, url, portal_origin, viewport, click):
    """One fresh visit and a repeat page view; returns the figures of that visit."""
    width, height, cpu = viewport
    ctx = browser.new_context(viewport={"width": width, "height": height})
    ctx.add_init_script(OBSERVERS)

    def open_page(dialog):
        page = ctx.new_page()
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        if cpu > 1:
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu})
        reqs = {}
        cdp.on(
            "Network.requestWillBeSent",
            lambda e: (
                reqs.setdefault(e["requestId"], {"url": e["request"]["url"], "bytes": 0, "cache": False})
                if e["request"]["url"].startswith(portal_origin) and "/api/" not in e["request"]["url"]
                else None
            ),
        )
        cdp.on(
            "Network.requestServedFromCache",
            lambda e: reqs[e["requestId"]].update(cache=True) if e["requestId"] in reqs else None,
        )
        cdp.on(
            "Network.responseReceived",
            lambda e: (
                reqs[e["requestId"]].update(cache=True)
                if e["requestId"] in reqs and e["response"].get("fromDiskCache")
                else None
            ),
        )
        cdp.on(
            "Network.loadingFinished",
            lambda e: reqs[e["requestId"]].update(bytes=e["encodedDataLength"]) if e["requestId"] in reqs else None,
        )
        page.goto(url, wait_until="load")
        if dialog:
            page.get_by_role("dialog").first.wait_for(state="visible", timeout=20_000)
        page.wait_for_timeout(800)
        return page, reqs

    page, first = open_page(bool(click))
    out = {
        "lcp": page.evaluate("__m.lcp"),
        "cls": page.evaluate("__m.cls"),
        "bytes": sum(r["bytes"] for r in first.values()),
        "requests": sum(1 for r in first.values() if not r["cache"]),
    }
    if click:
        page.get_by_role("button", name=click).first.click()
        page.wait_for_timeout(600)
        slow = [d for name, d in page.evaluate("__m.events") if name in ("click", "pointerup", "pointerdown")]
        out["click"] = max(slow) if slow else 0.0  # 0: under Event Timing's 16 ms threshold
        # The repeat view: the choice is made, so no dialog; the script comes from the cache or the portal.
        again, repeat = open_page(False)
        out["repeat_requests"] = sum(1 for r in repeat.values() if not r["cache"])
    ctx.close()
    return out


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--portal", default="http://127.0.0.1:8000")
    ap.add_argument("--key", default="")
    ap.add_argument("--visits", type=int, default=5)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    portal = args.portal.rstrip("/")
    key = args.key
    if not key:
        home = urllib.request.urlopen(portal + "/", timeout=30).read().decode()
        key = re.search(r"/consent/([^/\"']+)/banner\.js", home).group(1)
    # The host page is on another origin (another port).
    site, theirs = host_pages(portal, key)
    handler = functools.partial(Quiet, directory=site)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"http://127.0.0.1:{server.server_address[1]}"
    origin = f"{urlsplit(portal).scheme}://{urlsplit(portal).netloc}"

    variants = ["none", "ours"] + (["theirs"] if theirs else [])
    results = {vp: {v: [] for v in variants} for vp in VIEWPORTS}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for i in range(args.visits):
            click = "Reject all" if i % 2 == 0 else "Accept all"
            for vp, viewport in VIEWPORTS.items():
                order = variants[i % len(variants) :] + variants[: i % len(variants)]
                for variant in order:
                    figures = visit(
                        browser, f"{host}/{variant}.html", origin, viewport, click if variant != "none" else None
                    )
                    figures["clicked"] = click
                    results[vp][variant].append(figures)
        browser.close()
    server.shutdown()

    lines = [
        f"Figures ({args.visits} fresh visits per variant and viewport, interleaved; portal {portal}; medians, "
        "LCP delta paired visit by visit against the page without a banner):",
        "",
        "| viewport | bytes on the wire | requests to the portal, first / repeat view | LCP no banner | LCP delta "
        "| CLS | click to next paint, Reject all / Accept all: median (worst) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]

    def paint(xs):
        if not xs:
            return "—"
        worst, middle = max(xs), median(xs)
        shown = lambda x: "< 16" if x == 0 else f"{x:.0f}"  # noqa: E731
        return f"{shown(middle)} ms (worst {shown(worst)} ms)"

    for variant in variants[1:]:
        for vp, r in results.items():
            runs, none = r[variant], r["none"]
            deltas = [o["lcp"] - n["lcp"] for o, n in zip(runs, none, strict=True)]
            clicks = {c: [o["click"] for o in runs if o["clicked"] == c] for c in ("Reject all", "Accept all")}
            if variant == "ours":
                label = vp
                wire = f"{median([o['bytes'] for o in runs]):,.0f} B"
                portal_requests = (
                    f"{median([o['requests'] for o in runs]):.0f} / {max(o['repeat_requests'] for o in runs)}"
                )
            else:  # served by the host page's own origin: see banner_weight.py for its weight
                label, wire, portal_requests = f"vanilla-cookieconsent 3.1.0, {vp}", "—", "—"
            lines.append(
                f"| {label} | {wire} | {portal_requests} | {median([n['lcp'] for n in none]):.0f} ms | "
                f"{median(deltas):+.0f} ms | {max(o['cls'] for o in runs):.3f} | "
                f"{paint(clicks['Reject all'])} / {paint(clicks['Accept all'])} |"
            )
    report = "\n".join(lines)
    print(report)
    if args.write:
        readme = ROOT / "bench" / "README.md"
        text = readme.read_text(encoding="utf-8")
        start = text.index("## Banner delivery")
        end = text.find("\n## ", start + 3)
        section = text[start : end if end != -1 else len(text)]
        head, _sep, _old = section.partition("\nFigures (")
        text = text.replace(section, head.rstrip() + "\n\n" + report + "\n" + ("\n" if end != -1 else ""))
        readme.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
