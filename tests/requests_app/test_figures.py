"""The monthly request figures: kept up to date incrementally, idempotent, catching up after downtime, and
equal to counting the requests one at a time."""

import json
import statistics
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from privacyportal.celery import SCHEDULED_JOBS
from requests_app import services
from requests_app.metrics import _Tally, build_metrics
from requests_app.models import DataRequest, RequestFiguresState, RequestMonthlyFigures, RequestStatus

S = RequestStatus


def _figures() -> set[tuple]:
    rows = RequestMonthlyFigures.objects.values_list(
        "month", "kind", "jurisdiction", "status", "received", "answered", "on_time", "days_tenths"
    )
    return {(*row[:-1], json.dumps(row[-1], sort_keys=True)) for row in rows}


def _close(dr, *, status=S.COMPLETED, days: float):
    """Answer a request ``days`` after it came in, through the model's save (as the services do)."""
    dr.refresh_from_db()
    dr.status = status
    dr.closed_at = dr.received_at + timedelta(days=days)
    dr.save()


def _received(dr, when):
    # Back-dated without touching updated_at: as the requests of a month the job has already counted.
    DataRequest.objects.filter(pk=dr.pk).update(received_at=when, due_at=when + timedelta(days=30))


def _month(when):
    return timezone.localtime(when).date().replace(day=1)


@pytest.mark.django_db
def test_a_run_counts_what_changed_since_the_last_one_and_a_rerun_changes_nothing(make_request):
    now = timezone.now()
    old = make_request(kind="erasure")
    _received(old, now - timedelta(days=70))
    services.summarise_requests(now=now)
    earlier = RequestMonthlyFigures.objects.get(month=_month(now - timedelta(days=70)))
    assert (earlier.kind, earlier.status, earlier.received, earlier.answered) == ("erasure", old.status, 1, 0)
    # The old request is answered today: its month is recounted, though nothing new came in then.
    _close(old, days=70.5)
    make_request(kind="access")
    later = timezone.now()
    first = services.summarise_requests(now=later)
    earlier = RequestMonthlyFigures.objects.get(month=_month(now - timedelta(days=70)))
    assert (earlier.status, earlier.answered, earlier.days_tenths, earlier.on_time) == (S.COMPLETED, 1, {"705": 1}, 0)
    assert RequestMonthlyFigures.objects.get(month=_month(later), kind="access").received == 1
    figures = _figures()
    again = services.summarise_requests(now=later + timedelta(minutes=5))
    assert _figures() == figures and again["rows"] <= first["rows"]
    # Only the months that changed or hold open requests were counted again, not the whole history.
    assert again["months"] <= 2
    services.summarise_requests(now=later + timedelta(minutes=10), full=True)
    assert _figures() == figures


@pytest.mark.django_db
def test_after_downtime_the_job_catches_up_on_every_change_it_missed(make_request):
    now = timezone.now()
    make_request()
    services.summarise_requests(now=now - timedelta(days=40))  # the last run before a month of downtime
    # Meanwhile requests come in (back-dated into the gap, as a batch typed in from paper) and get answered.
    for days_ago, status in ((35, S.DENIED), (20, S.COMPLETED), (5, S.IN_PROGRESS)):
        dr = make_request(jurisdiction="ccpa")
        _received(dr, now - timedelta(days=days_ago))
        if status != S.IN_PROGRESS:
            _close(dr, status=status, days=3)
    services.summarise_requests(now=now)
    caught_up = _figures()
    assert sum(r[4] for r in caught_up) == 4
    services.summarise_requests(now=now + timedelta(minutes=5), full=True)
    assert caught_up == _figures()
    assert RequestFiguresState.objects.get().summarised_at == now + timedelta(minutes=5)


@pytest.mark.django_db
def test_the_figures_equal_those_counted_one_request_at_a_time(make_request):
    now = timezone.now()
    closed = []
    for i in range(18):
        dr = make_request(jurisdiction="ccpa" if i % 3 else "gdpr", kind=("access", "erasure", "rectification")[i % 3])
        _received(dr, now - timedelta(days=11 * i + 20, hours=i))
        if i % 4:
            # Whole tenths of a day (2.4 h), so the exact median is what the histogram holds.
            days = i % 7 + (i % 5) / 10
            _close(dr, status=S.COMPLETED if i % 4 != 3 else S.DENIED, days=days)
            closed.append(days)
    services.summarise_requests(now=now)
    figures = build_metrics(now=now)
    assert figures["total"] == 18 == DataRequest.objects.count()
    assert figures["overall"]["closed"] == len(closed)
    assert figures["overall"]["median_days"] == round(statistics.median(closed), 1)
    assert figures["overall"]["mean_days"] == round(statistics.fmean(closed), 1)
    by_status = dict(figures["by_status"])
    assert by_status[S.COMPLETED.label] == DataRequest.objects.filter(status=S.COMPLETED).count()
    ccpa = [r for r in figures["ccpa"] if r["received"]]
    assert sum(r["received"] for r in ccpa) == DataRequest.objects.filter(jurisdiction="ccpa").count()


@pytest.mark.django_db
def test_a_request_folded_into_another_is_not_counted(make_request):
    first = make_request(email="same@example.com")
    second = make_request(email="other@example.com")
    DataRequest.objects.filter(pk=second.pk).update(merged_into=first)
    services.summarise_requests(full=True)
    assert build_metrics()["total"] == 1


@given(st.lists(st.integers(min_value=0, max_value=900), min_size=1, max_size=60))
def test_the_median_from_the_histogram_is_the_median_of_the_days(tenths):
    tally = _Tally()
    for t in tenths:
        tally.tenths[t] += 1
    assert tally.median() == round(statistics.median(tenths) / 10, 1)


@pytest.mark.django_db
def test_the_job_is_scheduled_and_a_command(make_request, capsys):
    assert "requests_app.summarise_requests" in SCHEDULED_JOBS
    make_request()
    call_command("summarise_requests", "--full")
    assert "1 month(s) recounted" in capsys.readouterr().out
