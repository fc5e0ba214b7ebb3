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
