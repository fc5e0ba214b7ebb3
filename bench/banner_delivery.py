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
# What each visit clicks, in turn; the last of each list makes the choice.
CLICKS = {"Reject all": ["Reject all"], "Accept all": ["Accept all"], "Customise": ["Customise", "Save choices"]}
VIEWPORTS = {"desktop 1366 px": (1366, 768, 1), "mobile 390 px, 4x CPU": (390, 844, 4)}

# Collected in the page from the start: LCP, CLS and slow interactions (Event Timing reports those >= 16 ms).
OBSERVERS = """
window.__m = {lcp: 0, cls: 0, events: []};
new PerformanceObserver(l => l.getEntries().forEach(e => __m.lcp = e.startTime)).observe({type: 'largest-contentful-paint', buffered: true});
new PerformanceObserver(l => l.getEntries().forEach(e => { if (!e.hadRecentInput) __m.cls += e.value; })).observe({type: 'layout-shift', buffered: true});
new PerformanceObserver(l => l.getEntries().forEach(e => __m.events.push([e.name, e.duration]))).observe({type: 'event', durationThreshold: 16, buffered: true});
// Click to after the next frame, to the millisecond: from the input's timestamp to a task queued by the next
// animation frame, which runs once that frame's style, layout and paint are done on the main thread.
__m.frames = [];
addEventListener('click', e => { const t0 = e.timeStamp;
  requestAnimationFrame(() => { const ch = new MessageChannel(); ch.port1.onmessage = () => __m.frames.push(performance.now() - t0); ch.port2.postMessage(0); }); }, true);
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


# The floor: a bare fixed box whose buttons only hide or show boxes. What this host and browser cost any banner for
# a click, with no banner code at all.
FLOOR = """<div role="dialog" aria-label="Notice" style="position:fixed;inset:auto 0 0 0;padding:1rem;background:#fff;
border-top:1px solid #000"><button onclick="this.parentNode.hidden=true">Reject all</button>
<button onclick="this.parentNode.hidden=true">Accept all</button>
<button onclick="this.parentNode.hidden=true;this.parentNode.nextElementSibling.hidden=false">Customise</button></div>
<div role="dialog" aria-label="Settings" hidden style="position:fixed;inset:20% 1rem auto 1rem;padding:1rem;
background:#fff;border:1px solid #000"><button onclick="this.parentNode.hidden=true">Save choices</button></div>"""


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
    pages = [
        ("none.html", ""),
        ("floor.html", FLOOR),
        ("ours.html", f'<script src="{portal}/consent/{key}/banner.js" defer></script>'),
    ]
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


def press(page, cdp, name):
    """A real mouse click on the button, sent as input events the way a finger or a mouse sends them.

    Playwright's own click() also checks, inside the page, that the event reaches its target: capture listeners
    that run on the throttled main thread during the interaction and cost 5-10 ms there, which no banner pays
    in front of a visitor. Returns the interaction's figures: the worst Event Timing duration of its pointer
    events (0 when all are under the API's 16 ms threshold) and the click to after the next frame.
    """
    button = page.get_by_role("button", name=name).first
    button.wait_for(state="visible", timeout=20_000)
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
    page.wait_for_timeout(100)
    page.evaluate("__m.events = []; __m.frames = []")
    for kind in ("mousePressed", "mouseReleased"):
        cdp.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})
    page.wait_for_timeout(600)
    slow = [d for n, d in page.evaluate("__m.events") if n in ("click", "pointerup", "pointerdown")]
    frames = page.evaluate("__m.frames")
    return {"event_timing": max(slow) if slow else 0.0, "frame": frames[0] if frames else float("nan")}


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
                reqs.setdefault(e["requestId"], {"url": e["request"]["url"], "bytes": 0, "head": 0, "cache": False})
                if e["request"]["url"].startswith(portal_origin) and "/api/" not in e["request"]["url"]
                else None
            ),
        )
        cdp.on(
            "Network.requestServedFromCache",
            lambda e: reqs[e["requestId"]].update(cache=True) if e["requestId"] in reqs else None,
        )

        def received(e):
            r = reqs.get(e["requestId"])
            if r is not None:
                r["cache"] = r["cache"] or bool(e["response"].get("fromDiskCache"))
                r["head"] = e["response"].get("encodedDataLength", 0)  # the headers, received so far

        cdp.on("Network.responseReceived", received)
        cdp.on(
            "Network.loadingFinished",
            lambda e: reqs[e["requestId"]].update(bytes=e["encodedDataLength"]) if e["requestId"] in reqs else None,
        )
        page.goto(url, wait_until="load")
        if dialog:
            page.get_by_role("dialog").first.wait_for(state="visible", timeout=20_000)
        page.wait_for_timeout(800)
        return page, reqs, cdp

    page, first, cdp = open_page(bool(click))
    out = {
        "lcp": page.evaluate("__m.lcp"),
        "cls": page.evaluate("__m.cls"),
        # On the wire: the bodies as sent (compressed) and, apart, the response headers (HTTP/1.1 here; a CDN's
        # HTTP/2 or 3 compresses those).
        "bytes": sum(r["bytes"] for r in first.values()),
        "headers": sum(min(r["head"], r["bytes"]) for r in first.values()),
        "requests": sum(1 for r in first.values() if not r["cache"]),
    }
    if click:
        # "Customise" opens the settings, then "Save choices" saves them: two interactions of one visit.
        out["clicks"] = {name: press(page, cdp, name) for name in CLICKS[click]}
        # The repeat view: the choice is made, so no dialog; the script comes from the cache or the portal.
        again, repeat, _cdp = open_page(False)
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

    variants = ["none", "floor", "ours"] + (["theirs"] if theirs else [])
    results = {vp: {v: [] for v in variants} for vp in VIEWPORTS}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for i in range(args.visits):
            click = list(CLICKS)[i % len(CLICKS)]
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
        "| CLS |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    names = [n for ns in CLICKS.values() for n in ns]
    clicks_table = [
        "",
        "Click to next paint, per interaction: the click to after the next frame on the main thread (median, worst), "
        'then the Event Timing duration (rounded by the browser to 8 ms; "< 16" when under its 16 ms threshold):',
        "",
        "| variant | " + " | ".join(names) + " |",
        "| --- |" + " --- |" * len(names),
    ]

    def paint(figures):
        if not figures:
            return "—"
        frames = [f["frame"] for f in figures]
        timing = median([f["event_timing"] for f in figures])
        shown = "< 16" if timing == 0 else f"{timing:.0f}"
        return f"{median(frames):.0f} ms ({max(frames):.0f}); ET {shown} ms"

    for variant in variants[1:]:
        for vp, r in results.items():
            if variant == "floor":
                per = {n: [o["clicks"][n] for o in r[variant] if n in o["clicks"]] for n in names}
                clicks_table.append(f"| floor (a bare box), {vp} | " + " | ".join(paint(per[n]) for n in names) + " |")
                continue
            runs, none = r[variant], r["none"]
            deltas = [o["lcp"] - n["lcp"] for o, n in zip(runs, none, strict=True)]
            if variant == "ours":
                label = vp
                total, head = median([o["bytes"] for o in runs]), median([o["headers"] for o in runs])
                wire = f"{total:,.0f} B ({total - head:,.0f} B bodies + {head:,.0f} B headers)"
                portal_requests = (
                    f"{median([o['requests'] for o in runs]):.0f} / {max(o['repeat_requests'] for o in runs)}"
                )
            else:  # served by the host page's own origin: see banner_weight.py for its weight
                label, wire, portal_requests = f"vanilla-cookieconsent 3.1.0, {vp}", "—", "—"
            lines.append(
                f"| {label} | {wire} | {portal_requests} | {median([n['lcp'] for n in none]):.0f} ms | "
                f"{median(deltas):+.0f} ms | {max(o['cls'] for o in runs):.3f} |"
            )
            per = {n: [o["clicks"][n] for o in runs if n in o["clicks"]] for n in names}
            clicks_table.append(f"| {label} | " + " | ".join(paint(per[n]) for n in names) + " |")
    lines += clicks_table
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
