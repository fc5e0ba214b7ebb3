"""A host website and a "vendor" on local ports, serving pages that embed the live portal's banner."""

import http.server
import threading
from collections import Counter

import pytest

from consent.defaults import ensure_categories
from consent.models import CookieDeclaration, Property
from consent.services import invalidate_banner_cache
from tests.conftest import chromium_available


class Site:
    """A tiny web server on (host, free port): pages from a dict, 404 otherwise; counts the hits per path."""

    def __init__(self, host: str):
        self.pages: dict[str, str] = {}
        self.hits: Counter = Counter()
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?")[0]
                site.hits[path] += 1
                body = site.pages.get(path)
                self.send_response(200 if body is not None else 404)
                ctype = (
                    "text/plain"
                    if path.endswith(".txt")
                    else "application/xml"
                    if path.endswith(".xml")
                    else "text/html"
                )
                self.send_header("Content-Type", f"{ctype}; charset=utf-8")
                self.end_headers()
                if body is not None:
                    self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.origin = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def vendor_site():
    site = Site("127.0.0.2")  # another host: another party
    site.pages["/ad.html"] = "<!doctype html><title>Ad</title><p>An advertisement.</p>"
    yield site
    site.close()


@pytest.fixture
def host_site():
    site = Site("127.0.0.1")
    yield site
    site.close()


@pytest.fixture
def scanned_site(transactional_db, settings, live_server, host_site, vendor_site):
    """The website as the portal knows it: its address, its declarations (one stale), and its pages."""
    if not chromium_available():
        pytest.skip("scans need Chromium")
    settings.SCANNER_HOST_INTERVAL_SECONDS = 0
    settings.SCANNER_COST_PAGES = 0
    settings.SITE_URL = live_server.url
    cats = ensure_categories()
    prop = Property.objects.create(name="Test shop", allowed_origins=host_site.origin)
    prop.categories.set(cats.values())
    for name, cat, duration in [("_perf", "performance", "1 day"), ("old_cookie", "performance", "1 day")]:
        CookieDeclaration.objects.create(
            property=prop, category=cats[cat], name=name, provider="Example", purpose="Statistics", duration=duration
        )
    invalidate_banner_cache()
    host_site.pages["/"] = page(live_server.url, prop.key, vendor_site.origin, links=["/second.html"])
    host_site.pages["/second.html"] = page(live_server.url, prop.key, vendor_site.origin, links=["/third.html"])
    host_site.pages["/third.html"] = page(live_server.url, prop.key, vendor_site.origin)
    return prop


def page(portal: str, key: str, vendor: str, links=()) -> str:
    anchors = "".join(f'<a href="{href}">{href}</a> ' for href in links)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test shop</title>
<script src="{portal}/consent/{key}/banner.js" defer></script></head>
<body><main><h1>Test shop</h1><p>{anchors}<a href="{vendor}/elsewhere.html">a partner</a></p>
<script>document.cookie = "_pre_tracker=1; path=/; max-age=3600"; localStorage.setItem("shop_seen", "1");</script>
<script type="text/plain" data-category="performance">document.cookie = "_perf=1; path=/; max-age=3600";</script>
<iframe data-category="targeting" data-src="{vendor}/ad.html" title="Advertisement"></iframe>
</main></body></html>"""
