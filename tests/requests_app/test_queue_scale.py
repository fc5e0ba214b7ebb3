"""The request list stays cheap with a hundred thousand requests: exact lookups, index ranges, no drill-down scan."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from requests_app.models import DataRequest

pytestmark = pytest.mark.django_db
QUEUE = "/admin/requests_app/datarequest/"


def _sql(ctx) -> str:
    return " ".join(q["sql"] for q in ctx.captured_queries if "requests_app_datarequest" in q["sql"]).upper()


def test_a_whole_reference_or_address_is_an_exact_lookup(client, staff_user, make_request):
    wanted = make_request(email="someone.else@example.com")
    make_request(email="other@example.com")
    client.force_login(staff_user)
    for term in (wanted.reference, wanted.reference.lower(), "someone.else@example.com", "Someone.Else@Example.com"):
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(QUEUE, {"q": term})
        assert [r.pk for r in page.context["cl"].result_list] == [wanted.pk], term
        assert "LIKE" not in _sql(ctx), term
    # A fragment still searches (the slow way, for what staff cannot paste whole).
    assert [r.pk for r in client.get(QUEUE, {"q": "someone.else"}).context["cl"].result_list] == [wanted.pk]


def test_the_list_has_no_date_drill_down_and_filters_received_dates_by_range(client, staff_user, make_request):
    recent, old = make_request(), make_request()
    DataRequest.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=400))
    client.force_login(staff_user)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(QUEUE, {"status": "all"})
    assert "DISTINCT" not in _sql(ctx)
    today = timezone.localtime()
    page = client.get(
        QUEUE,
        {
            "status": "all",
            "received_at__gte": str(today - timedelta(days=6)),
            "received_at__lt": str(today + timedelta(days=1)),
        },
    )
    assert [r.pk for r in page.context["cl"].result_list] == [recent.pk]


def _plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the query plan is PostgreSQL's")
def test_the_default_queue_reads_only_open_requests_however_long_the_history(client, staff_user, make_request):
    # Answered requests are most of the table and were due before any open one: a scan in due order used to
    # read through all of them to reach the first open request.
    template = make_request()
    fields = [
        f
        for f in DataRequest._meta.concrete_fields
        if not f.primary_key and f.name not in ("reference", "status", "due_at")
    ]
    long_ago = timezone.now() - timedelta(days=900)
    DataRequest.objects.bulk_create(
        [
            DataRequest(
                **{f.attname: getattr(template, f.attname) for f in fields},
                reference=f"DSR-2024-{i:06d}",
                status="completed",
                due_at=long_ago + timedelta(hours=i),
            )
            for i in range(3000)
        ]
    )
    open_ones = [make_request() for _ in range(3)]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE requests_app_datarequest")
    client.force_login(staff_user)
    page = client.get(QUEUE)
    rows = page.context["cl"].result_list
    assert [r.pk for r in rows] == [r.pk for r in sorted([template, *open_ones], key=lambda r: (r.due_at, r.pk))]
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0][0]["Plan"]
    scans = [n for n in _plan_nodes(plan) if n.get("Relation Name") == "requests_app_datarequest"]
    assert scans and all(n.get("Index Name") == "request_open_due_id" for n in scans), plan
    assert sum(n.get("Rows Removed by Filter", 0) + n["Actual Rows"] for n in scans) <= 4, plan
