"""Staff in the admin, in Chromium: look up a consent id, download its proof, read the daily chart."""

import csv
import io
import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from consent import services
from consent.defaults import ensure_categories
from consent.models import ConsentRecord, Property

pytestmark = pytest.mark.browser


@pytest.fixture
def staff_page(page, live_server, staff_user):
    page.goto(f"{live_server.url}/admin/login/")
    page.locator("input[name=username]").fill(staff_user.email)
    page.locator("input[name=password]").fill("Correct-horse-42")
    page.locator("input[name=password]").press("Enter")
    page.get_by_role("link", name="Log out").or_(page.get_by_role("button", name="Log out")).first.wait_for()
    return page


def test_staff_look_up_a_consent_id_and_export_its_proof(staff_page, live_server, transactional_db):
    page = staff_page
    cats = ensure_categories()
    prop = Property.objects.create(name="Demo shop", allowed_origins="https://shop.example.com")
    prop.categories.set(cats.values())
    cid, other = uuid.uuid4(), uuid.uuid4()
    common = {
        "property_key": prop.key,
        "revision": 1,
        "ip": "203.0.113.77",
        "page_url": "https://shop.example.com/a?x=1",
    }
    services.record_consent(consent_id=cid, choices={}, method="reject_all", **common)
    services.record_consent(consent_id=cid, choices={"performance": True}, method="custom", **common)
    services.record_consent(consent_id=other, choices={}, method="accept_all", **common)

    page.goto(f"{live_server.url}/admin/consent/consentrecord/")
    page.get_by_role("link", name="Look up and export a consent id").click()
    page.get_by_label("Consent id").fill(str(cid))
    page.get_by_role("button", name="Look up").click()
    rows = page.locator("#content table tbody tr")
    # The click navigates: count the rows of the answer, not of the page still on screen.
    expect(rows).to_have_count(2)
    assert "203.0.113.0" in rows.first.inner_text() and "?x=1" not in page.content()

    with page.expect_download() as dl:
        page.get_by_role("link", name="Export as CSV").click()
    assert dl.value.suggested_filename == f"consent-{cid}.csv"
    table = list(csv.DictReader(io.StringIO(open(dl.value.path(), encoding="utf-8").read())))
    assert [r["method"] for r in table] == ["reject_all", "custom"]
    assert {r["consent_id"] for r in table} == {str(cid)} and table[0]["ip"] == "203.0.113.0"
    assert json.loads(table[1]["choices"])["performance"] is True

    with page.expect_download() as dl:
        page.get_by_role("link", name="Export as JSON").click()
    proof = json.loads(open(dl.value.path(), encoding="utf-8").read())
    assert proof["consent_id"] == str(cid)
    assert [(r["method"], r["revision"]) for r in proof["records"]] == [("reject_all", 1), ("custom", 1)]
    assert proof["records"][0]["page_url"] == "https://shop.example.com/a"

    page.get_by_label("Consent id").fill("not-a-consent-id")
    page.get_by_role("button", name="Look up").click()
    assert page.get_by_text("That is not a consent id.").is_visible()


def test_property_page_charts_outcomes_per_day(staff_page, live_server, transactional_db):
    page = staff_page
    cats = ensure_categories()
    prop = Property.objects.create(name="Chart shop")
    prop.categories.set(cats.values())
    for method in ("accept_all", "accept_all", "reject_all", "custom", "gpc", "withdraw"):
        services.record_consent(
            property_key=prop.key, consent_id=uuid.uuid4(), revision=1, choices={}, method=method, gpc=method == "gpc"
        )
    # Two days ago: one refusal (the log is append-only, so date it with a queryset update, as a test only).
    old = services.record_consent(
        property_key=prop.key, consent_id=uuid.uuid4(), revision=1, choices={}, method="reject_all"
    )
    ConsentRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    services.summarise_consent()  # the chart reads the daily figures

    page.goto(f"{live_server.url}/admin/consent/property/{prop.pk}/change/")
    chart = page.locator("svg").filter(has=page.locator("rect"))
    assert chart.count() >= 1 and chart.first.is_visible()
    totals = "Accept all: 2 · Reject all: 2 · Custom: 1 · Global Privacy Control: 1 · Withdrawal: 1"
    assert page.locator("p", has_text=totals).is_visible()
    # Each bar is labelled for screen readers and tooltips.
    assert "Accept all: 2" in chart.first.inner_html() and "Global Privacy Control: 1" in chart.first.inner_html()
    page.get_by_text("As a table").click()
    today = timezone.localdate().isoformat()
    cells = page.locator("#content details tr", has_text=today).first.locator("td").all_inner_texts()
    assert cells == [today, "2", "1", "1", "1", "1"]
    two_days_ago = (timezone.localdate() - timedelta(days=2)).isoformat()
    cells = page.locator("#content details tr", has_text=two_days_ago).first.locator("td").all_inner_texts()
    assert cells == [two_days_ago, "0", "1", "0", "0", "0"]
