"""The daily consent figures: kept up to date incrementally, idempotent, catching up after downtime."""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from consent import selectors, services
from consent.models import ConsentDailySummary, ConsentRecord, ConsentSummaryState
from privacyportal.celery import SCHEDULED_JOBS
from retention.schedules import DEFAULT_SCHEDULES

pytestmark = pytest.mark.django_db


def _record(prop, *, method="accept_all", gpc=False, at=None) -> ConsentRecord:
    record = services.record_consent(
        property_key=prop.key, consent_id=uuid.uuid4(), revision=1, choices={}, method=method, gpc=gpc
    )
    if at is not None:
        # The log is append-only; a test dates a row with a queryset update, as an import would.
        ConsentRecord.objects.filter(pk=record.pk).update(created_at=at)
    return record


def _figures() -> set[tuple]:
    return set(ConsentDailySummary.objects.values_list("day", "property_id", "method", "gpc", "count"))


def _log_counts(tz) -> set[tuple]:
    """The same figures counted straight from the log, in Python: what the roll-up must equal."""
    counts: dict[tuple, int] = {}
    for r in ConsentRecord.objects.all():
        key = (r.created_at.astimezone(tz).date(), r.property_id, r.method, r.gpc)
        counts[key] = counts.get(key, 0) + 1
    return {(*k, n) for k, n in counts.items()}


def _state() -> ConsentSummaryState:
    return ConsentSummaryState.objects.get(key="consent")


def test_summary_counts_per_local_day_website_method_and_gpc(prop, make_property, settings):
    tz = ZoneInfo(settings.TIME_ZONE)
    other = make_property(name="Blog")
    now = timezone.now()
    _record(prop, method="accept_all")
    _record(prop, method="accept_all")
    _record(prop, method="reject_all", gpc=True)
    _record(other, method="custom")
    # 23:30 UTC is already the next day in Brussels: the figures count the organisation's day.
    late = datetime(2026, 3, 10, 23, 30, tzinfo=ZoneInfo("UTC"))
    _record(prop, method="reject_all", at=late)
    services.summarise_consent(now=now)
    figures = _figures()
    assert figures == _log_counts(tz)
    today = timezone.localdate(now)
    assert (today, prop.pk, "accept_all", False, 2) in figures
    assert (today, prop.pk, "reject_all", True, 1) in figures
    assert (today, other.pk, "custom", False, 1) in figures
    assert (late.astimezone(tz).date(), prop.pk, "reject_all", False, 1) in figures
    assert late.astimezone(tz).date().day == 11
    assert _state().summarised_at == now
    assert selectors.summary_as_of() == now
    assert selectors.summary_total(property_pk=prop.pk) == 4


def test_summary_is_incremental_and_recounts_only_the_days_that_changed(prop, settings):
    tz = ZoneInfo(settings.TIME_ZONE)
    now = timezone.now()
    month_ago = now - timedelta(days=30)
    _record(prop, at=month_ago)
    _record(prop)
    first = services.summarise_consent(now=now)
    assert first["days"] == 31  # first run: every day from the oldest row to today
    # Five minutes later: new choices today only. The run recounts today, not the month.
    _record(prop, method="custom")
    second = services.summarise_consent(now=now + timedelta(minutes=5))
    assert second["days"] <= 2  # today (and yesterday, when the margin before the last run crosses midnight)
    assert _figures() == _log_counts(tz)
    assert _state().last_record_id == ConsentRecord.objects.order_by("-pk").first().pk
    # A back-dated row (an import) past the watermark: its own day is recounted as well.
    _record(prop, method="reject_all", at=month_ago)
    third = services.summarise_consent(now=now + timedelta(minutes=10))
    assert timezone.localtime(month_ago, tz).date() in {
        d for d in ConsentDailySummary.objects.filter(method="reject_all").values_list("day", flat=True)
    }
    assert third["days"] <= 3
    assert _figures() == _log_counts(tz)


def test_summary_reruns_give_the_same_figures_and_leave_the_log_alone(prop, settings):
    tz = ZoneInfo(settings.TIME_ZONE)
    now = timezone.now()
    for days_ago, method in ((0, "accept_all"), (0, "gpc"), (1, "reject_all"), (3, "custom")):
        _record(prop, method=method, gpc=method == "gpc", at=now - timedelta(days=days_ago))
    log_before = list(ConsentRecord.objects.order_by("pk").values_list("pk", "created_at", "method"))
    services.summarise_consent(now=now)
    once = _figures()
    services.summarise_consent(now=now)
    services.summarise_consent(now=now + timedelta(minutes=5))
    assert _figures() == once == _log_counts(tz)
    services.summarise_consent(now=now, full=True)
    assert _figures() == once
    assert list(ConsentRecord.objects.order_by("pk").values_list("pk", "created_at", "method")) == log_before


def test_summary_catches_up_after_downtime(prop, settings):
    tz = ZoneInfo(settings.TIME_ZONE)
    now = timezone.now()
    _record(prop, at=now - timedelta(days=6))
    services.summarise_consent(now=now - timedelta(days=6))
    # The job did not run for six days (no worker); choices came in every day meanwhile.
    for days_ago in (5, 4, 3, 2, 1, 0):
        for _ in range(days_ago + 1):
            _record(prop, method="custom", at=now - timedelta(days=days_ago))
    result = services.summarise_consent(now=now)
    assert result["days"] >= 6
    assert _figures() == _log_counts(tz)
    assert selectors.summary_total(method="custom") == 21


def test_summary_counts_a_row_that_committed_after_the_last_run_with_an_earlier_key(prop, settings):
    """A transaction that commits late has a key below the watermark: the margin's recount still finds it."""
    tz = ZoneInfo(settings.TIME_ZONE)
    now = timezone.now()
    _record(prop)
    services.summarise_consent(now=now)
    late = _record(prop, method="reject_all")
    # As if the last run had already seen a higher key while this row's transaction was still open.
    ConsentSummaryState.objects.filter(key="consent").update(last_record_id=late.pk + 10)
    services.summarise_consent(now=now + timedelta(minutes=5))
    assert _figures() == _log_counts(tz)
    assert selectors.summary_total(method="reject_all") == 1


def test_summary_command_and_schedule(prop):
    _record(prop)
    call_command("summarise_consent")
    assert selectors.summary_total() == 1
    assert "consent.summarise_consent" in SCHEDULED_JOBS
    assert any(d.task == "consent.summarise_consent" for d in DEFAULT_SCHEDULES)
    from consent.tasks import summarise_consent_task

    _record(prop)
    assert summarise_consent_task.apply().get()["last_record_id"] == ConsentRecord.objects.order_by("-pk")[0].pk
    assert selectors.summary_total() == 2
