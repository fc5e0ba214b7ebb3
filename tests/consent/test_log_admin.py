"""The consent log in admin at scale: exact consent-id search, keyset pages newest first, filters by index."""

import re
import uuid
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent import services
from consent.admin import ConsentRecordAdmin
from consent.models import ConsentRecord

pytestmark = pytest.mark.django_db
LOG = "/admin/consent/consentrecord/"


def _record(prop, *, at=None, method="accept_all", consent_id=None) -> ConsentRecord:
    record = services.record_consent(
        property_key=prop.key, consent_id=consent_id or uuid.uuid4(), revision=1, choices={}, method=method
    )
    if at is not None:
        ConsentRecord.objects.filter(pk=record.pk).update(created_at=at)  # a test's way to date a row
    return record


def _log_queries(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if "consent_consentrecord" in q["sql"]]


def test_search_finds_a_record_by_exact_consent_id_with_a_plain_equality(client, staff_user, prop):
    wanted = uuid.uuid4()
    first = _record(prop, consent_id=wanted)
    second = _record(prop, consent_id=wanted, method="reject_all")
    _record(prop)
    client.force_login(staff_user)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(LOG, {"q": str(wanted).upper()})
    assert page.status_code == 200
    cl = page.context["cl"]
    assert [r.pk for r in cl.result_list] == [second.pk, first.pk]
    assert cl.result_count == 2 and "2 records" in page.content.decode()
    sql = " ".join(_log_queries(ctx))
    assert "UPPER" not in sql.upper().replace("UPPER_", "") and "::text" not in sql
    assert "DISTINCT" not in sql.upper()  # no date drill-down over the whole log


def test_search_with_something_that_is_not_a_consent_id_says_so_and_reads_nothing(client, staff_user, prop):
    _record(prop)
    client.force_login(staff_user)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(LOG, {"q": "alice@example.com"}, follow=True)
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == []
    messages = [str(m) for m in page.context["messages"]]
    assert any("is not a consent id" in m for m in messages)
    # No query that could scan the log: only an empty result, no count, no cast of the consent id.
    assert not any("::text" in q or "UPPER(" in q.upper() for q in _log_queries(ctx))


def _walk(client, url, params, direction):
    seen = []
    page = client.get(url, params)
    while True:
        cl = page.context["cl"]
        seen.append([r.pk for r in cl.result_list])
        nxt = cl.older_url if direction == "older" else cl.newer_url
        if not nxt:
            return seen, page
        page = client.get(url + nxt)


def test_keyset_pages_walk_the_whole_log_newest_first_across_equal_times(client, staff_user, prop, monkeypatch):
    monkeypatch.setattr(ConsentRecordAdmin, "list_per_page", 3)
    base = timezone.now() - timedelta(hours=1)
    same = base - timedelta(minutes=5)
    records = [_record(prop, at=base - timedelta(minutes=i)) for i in range(4)]
    # Five rows at the very same instant: pages must split them by key without losing or repeating one.
    records += [_record(prop, at=same) for _ in range(5)]
    records += [_record(prop, at=base - timedelta(minutes=10 + i)) for i in range(3)]
    expected = [r.pk for r in sorted(records, key=lambda r: (ConsentRecord.objects.get(pk=r.pk).created_at, r.pk))]
    expected.reverse()
    client.force_login(staff_user)
    with CaptureQueriesContext(connection) as ctx:
        pages, last = _walk(client, LOG, {}, "older")
    assert [pk for p in pages for pk in p] == expected
    assert all(len(p) == 3 for p in pages) and len(pages) == 4
    assert not any("OFFSET" in q.upper() for q in _log_queries(ctx))
    # And back again, newer by newer, from the oldest page.
    newer_pages = []
    page = last
    while page.context["cl"].newer_url:
        page = client.get(LOG + page.context["cl"].newer_url)
        newer_pages.append([r.pk for r in page.context["cl"].result_list])
    assert newer_pages == pages[-2::-1]


def test_a_cursor_deep_in_the_log_reads_one_page_and_bad_cursors_start_at_the_newest(client, staff_user, prop):
    now = timezone.now()
    records = [_record(prop, at=now - timedelta(minutes=i)) for i in range(5)]
    client.force_login(staff_user)
    from consent.admin import encode_cursor

    older = ConsentRecord.objects.get(pk=records[2].pk)
    page = client.get(LOG, {"older": encode_cursor(older)})
    assert [r.pk for r in page.context["cl"].result_list] == [records[3].pk, records[4].pk]
    page = client.get(LOG, {"older": "not-a-cursor"})
    assert page.status_code == 200 and len(page.context["cl"].result_list) == 5


def test_filters_by_date_range_website_and_method_with_totals_from_the_daily_figures(
    client, staff_user, prop, make_property
):
    other = make_property(name="Blog")
    tz = timezone.get_current_timezone()
    may = datetime(2026, 5, 10, 12, 0, tzinfo=tz)
    _record(prop, at=may)
    _record(prop, at=datetime(2026, 5, 31, 23, 30, tzinfo=tz), method="reject_all")  # last evening of May
    _record(prop, at=datetime(2026, 6, 1, 0, 30, tzinfo=tz))  # June already
    _record(other, at=may)
    services.summarise_consent()
    client.force_login(staff_user)
    # A month, as the filter's From / To (included) form sends it.
    page = client.get(LOG, {"created_at__gte": "2026-05-01", "until": "2026-05-31", "property__id__exact": prop.pk})
    cl = page.context["cl"]
    assert {r.created_at.astimezone(tz).month for r in cl.result_list} == {5} and len(cl.result_list) == 2
    assert cl.result_count == 2 and "Figures as of" in cl.count_text
    page = client.get(
        LOG, {"created_at__gte": "2026-05-01", "created_at__lt": "2026-06-01", "method__exact": "reject_all"}
    )
    assert page.context["cl"].result_count == 1 and len(page.context["cl"].result_list) == 1
    assert client.get(LOG, {"property__id__exact": other.pk}).context["cl"].result_count == 1
    # A range the daily figures cannot answer (not whole days) is counted as an estimate, said as "about".
    page = client.get(LOG, {"created_at__gte": "2026-05-10 13:00:00+02:00"})
    assert len(page.context["cl"].result_list) == 2
    assert page.context["cl"].count_text.startswith("about ")
    # Junk dates are refused like any wrong filter, not answered with a scan.
    assert client.get(LOG, {"created_at__gte": "last tuesday"}).status_code == 302


def test_the_date_filter_lists_months_from_the_daily_figures(client, staff_user, prop):
    _record(prop, at=timezone.now() - timedelta(days=62))
    services.summarise_consent()
    client.force_login(staff_user)
    html = client.get(LOG).content.decode()
    month = timezone.localtime(timezone.now() - timedelta(days=62))
    from django.utils.formats import date_format

    assert date_format(month, "YEAR_MONTH_FORMAT") in html
    assert re.search(r'name="until"', html)
