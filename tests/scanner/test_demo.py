"""The demo website: a newcomer's first scan shows one cookie set before consent and one tag blocked properly."""

import io

import pytest

from consent.models import Property
from scanner import demo_data, services
from scanner.models import ScanTrigger
from scanner.rules import ACCEPT_ALL, GPC, NO_CHOICE, REJECT_ALL
from tests.conftest import chromium_available

pytestmark = pytest.mark.browser


def test_the_first_scan_of_the_demo_shop_page_finds_the_visit_counter_and_not_the_blocked_tag(
    transactional_db, live_server, settings
):
    if not chromium_available():
        pytest.skip("scans need Chromium")
    settings.SITE_URL = live_server.url
    settings.SCANNER_HOST_INTERVAL_SECONDS = 0
    settings.SCANNER_COST_PAGES = 0
    demo_data.seed(users=0, stdout=io.StringIO())
    prop = Property.objects.get(name=demo_data.NAME)
    scan = services.start_scan(prop=prop, actor=None, trigger=ScanTrigger.COMMAND, queue=False)
    report = services.run_scan(scan=scan).report
    assert report["pages"] == [f"{live_server.url}/demo/shop/"]
    assert sorted((f["kind"], f["subject"], f["state"]) for f in report["findings"]) == sorted(
        [
            ("cookie_before_consent", "_demo_visits", NO_CHOICE),
            ("cookie_before_consent", "_demo_visits", REJECT_ALL),
            ("cookie_before_consent", "_demo_visits", GPC),
            ("undeclared_cookie", "_demo_visits", NO_CHOICE),
        ]
    )
    analytics = next(c for c in report["cookies"] if c["name"] == "_pa_id")
    assert analytics["declared"] and analytics["states"] == [ACCEPT_ALL]
