"""The metrics page: every month drawn with axes and values beside a table, and the CCPA §7102 yearly figures."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core import charts
from requests_app.metrics import build_metrics as _build
from requests_app.models import DataRequest, RequestStatus
from requests_app.services import summarise_requests

pytestmark = pytest.mark.django_db


def build_metrics(*, now=None):
    # The tests back-date requests with update(), past the job's change tracking: count everything first.
    summarise_requests(full=True, now=now)
    return _build(now=now)


NOW = datetime(2026, 6, 15, 12, 0, tzinfo=ZoneInfo("UTC"))


def _at(dr, *, received, closed=None, status=None):
    DataRequest.objects.filter(pk=dr.pk).update(
        received_at=received, closed_at=closed, status=status or dr.status, due_at=received + timedelta(days=45)
    )


def test_every_one_of_the_last_twelve_months_is_listed_an_empty_one_as_zero(make_request):
    _at(make_request(), received=NOW - timedelta(days=100))  # early March
    _at(make_request(), received=NOW - timedelta(days=1))
    monthly = build_metrics(now=NOW)["monthly"]
    assert [m["month"] for m in monthly] == [f"2025-{m:02}" for m in range(7, 13)] + [
        f"2026-{m:02}" for m in range(1, 7)
    ]
    assert [m["received"] for m in monthly] == [0] * 8 + [1, 0, 0, 1]
    assert monthly[0]["label"] == "Jul 2025"


def test_the_ccpa_figures_count_californian_requests_per_year_and_right(make_request):
    know = make_request(jurisdiction="ccpa", kind="access")
    _at(know, received=NOW - timedelta(days=20), closed=NOW - timedelta(days=10), status=RequestStatus.COMPLETED)
    slow = make_request(jurisdiction="ccpa", kind="portability")
    _at(slow, received=NOW - timedelta(days=40), closed=NOW - timedelta(days=10), status=RequestStatus.DENIED)
    last_year = make_request(jurisdiction="ccpa", kind="erasure")
    _at(last_year, received=datetime(2025, 3, 1, tzinfo=ZoneInfo("UTC")))
    _at(make_request(jurisdiction="gdpr", kind="access"), received=NOW - timedelta(days=5))
    rows = {(r["year"], str(r["label"])): r for r in build_metrics(now=NOW)["ccpa"]}
    know_2026 = rows[(2026, "Requests to know")]
    assert (know_2026["received"], know_2026["complied"], know_2026["denied"]) == (2, 1, 1)
    assert know_2026["median_days"] == 20.0 and know_2026["mean_days"] == 20.0
    # The four rights the regulation names are listed even when none came in.
    assert rows[(2026, "Requests to opt out of sale/sharing")]["received"] == 0
    assert rows[(2026, "Requests to correct")]["received"] == 0
    assert rows[(2025, "Requests to delete")]["received"] == 1 and (2025, "Requests to limit") not in rows


def test_the_chart_has_axis_ticks_values_and_labels_and_nothing_a_strict_csp_refuses():
    svg = charts.bar_chart_svg(
        title="Requests",
        categories=["Jan 2026", "Feb 2026", "Mar 2026"],
        series=[charts.Series("Received", "#417690", [7, 0, 3]), charts.Series("Answered", "#a35b00", [2, 0, 3])],
    )
    assert svg.startswith('<svg role="img" aria-label="Requests"')
    for tick in ("0", "2", "4", "6", "8"):
        assert f'text-anchor="end" font-size="11">{tick}</text>' in svg
    assert svg.count("<rect") == 4 + 2  # four non-empty bars and two legend keys
    assert 'font-size="10">0</text>' in svg and "Feb 2026" in svg  # the empty month still has its place and value
    assert "style=" not in svg and "<script" not in svg and "<Received" not in svg


def test_the_metrics_page_shows_the_chart_the_table_and_the_yearly_figures(client, staff_user, make_request):
    _at(make_request(jurisdiction="ccpa", kind="opt_out"), received=datetime.now(ZoneInfo("UTC")))
    summarise_requests()
    client.force_login(staff_user)
    page = client.get("/admin/requests_app/datarequest/metrics/").content.decode()
    assert '<svg role="img" aria-label="Requests received and answered per month"' in page
    assert "<caption>Requests per month</caption>" in page and page.count('<th scope="row">') == 12
    assert "Mean days to respond" in page and "Requests to opt out of sale/sharing</td><td>1</td>" in page


def test_a_stacked_chart_of_thirty_days_totals_each_bar_and_labels_days_without_overlap():
    days = [f"2026-11-{d:02}" for d in range(1, 31)]
    svg = charts.bar_chart_svg(
        title="Outcomes",
        categories=days,
        series=[charts.Series("Accept all", "#15803d", [2] * 30), charts.Series("Reject all", "#b91c1c", [1] * 30)],
        stacked=True,
    )
    assert "<title>2026-11-01, Accept all: 2</title>" in svg and svg.count('font-size="10">3</text>') == 30
    shown = [d for d in days if f'font-size="11">{d}</text>' in svg]
    assert 5 <= len(shown) < 30 and shown[0] == "2026-11-01"


def test_the_metrics_page_reads_the_monthly_figures_and_says_when_they_were_counted(client, staff_user, make_request):
    make_request()
    client.force_login(staff_user)
    before = client.get("/admin/requests_app/datarequest/metrics/")
    assert before.context["total"] == 0 and "Figures not counted yet" in before.content.decode()
    summarise_requests()
    make_request()  # after the count: on the page at the next run, not before
    page = client.get("/admin/requests_app/datarequest/metrics/")
    assert page.context["total"] == 1 and "Figures as of" in page.content.decode()
    summarise_requests()
    assert client.get("/admin/requests_app/datarequest/metrics/").context["total"] == 2
