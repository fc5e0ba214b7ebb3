"""The issue's default retention table, row by row: a row just past the cut-off is acted on, one just inside is not.

Cut-offs here are counted independently of the engine (calendar days and months back from a fixed
summer ``now``, on the organisation's wall clock), so a wrong period or unit in a seeded policy fails.
"""

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from consent.models import ConsentRecord, Property
from demo.models import BlogComment, Invoice, SupportConversation, SupportMessage, TrafficLog
from fulfilment.lifecycle import notify_inactive_accounts
from fulfilment.models import InactiveAccountNotice
from requests_app.models import DataRequest, RequestEvent, RequestFile
from requests_app.services import record_event as record_request_event
from retention.enforcement import enforce_retention
from retention.models import RetentionPolicy
from retention.policies import sync_policies

BRUSSELS = ZoneInfo("Europe/Brussels")
# Mid-July: no daylight-saving change lies between "now" and any of the cut-offs below (all in summer).
NOW = datetime(2026, 7, 15, 10, 0, tzinfo=BRUSSELS)
EPS = timedelta(minutes=1)


def months_back(months: int) -> datetime:
    index = NOW.year * 12 + NOW.month - 1 - months
    return NOW.replace(year=index // 12, month=index % 12 + 1)


@pytest.fixture
def seeded(db, settings):
    settings.TIME_ZONE = "Europe/Brussels"
    RetentionPolicy.objects.all().delete()
    sync_policies()
    return {p.name: p for p in RetentionPolicy.objects.all()}


def run(name: str):
    item = enforce_retention(policy_name=name, now=NOW).items.get()
    assert item.status == "done", item.errors
    return item


def test_every_row_of_the_default_table_is_a_policy(seeded):
    expected = {
        "comment-ip": ("demo.BlogComment", 30, "days", "null"),
        "traffic-logs": ("demo.TrafficLog", 90, "days", "delete"),
        "support-closed": ("demo.SupportConversation", 24, "months", "delete"),
        "invoices-tax": ("demo.Invoice", 84, "months", "delete"),
        "unverified-requests": ("requests_app.DataRequest", 30, "days", "delete"),
        "closed-requests": ("requests_app.DataRequest", 24, "months", "delete"),
        "consent-log": ("consent.ConsentRecord", 60, "months", "delete"),
        "inactive-accounts": ("auth.User", 24, "months", "inactive_accounts"),
    }
    got = {name: (p.dataset, p.period, p.period_unit, p.action) for name, p in seeded.items() if name in expected}
    assert got == expected
    assert all(seeded[name].legal_basis for name in expected)


@pytest.mark.smoke
def test_blog_comment_ip_addresses_are_nulled_after_30_days(seeded):
    cut = NOW - timedelta(days=30)

    def comment(at):
        return BlogComment.objects.create(
            author_name="Ann", author_email="ann@example.com", ip_address="198.51.100.7", post_slug="p", body="Hi",
            created_at=at,
        )  # fmt: skip

    old, fresh = comment(cut - EPS), comment(cut + EPS)
    assert run("comment-ip").modified == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.ip_address is None and old.body == "Hi"  # the comment stays, only the address goes
    assert fresh.ip_address == "198.51.100.7"


def test_traffic_logs_are_deleted_after_90_days(seeded):
    cut = NOW - timedelta(days=90)
    old = TrafficLog.objects.create(path="/old", ip_address="198.51.100.1", created_at=cut - EPS)
    fresh = TrafficLog.objects.create(path="/new", ip_address="198.51.100.2", created_at=cut + EPS)
    assert run("traffic-logs").deleted == 1
    assert list(TrafficLog.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not TrafficLog.objects.filter(pk=old.pk).exists()


def test_support_conversations_are_deleted_two_years_after_closing(seeded):
    cut = months_back(24)

    def conversation(closed_at, status="closed"):
        conv = SupportConversation.objects.create(
            email="bob@example.com", subject="Help", status=status, opened_at=cut - timedelta(days=400),
            closed_at=closed_at,
        )  # fmt: skip
        SupportMessage.objects.create(conversation=conv, sender_email="bob@example.com", body="Hello")
        return conv

    old = conversation(cut - EPS)
    fresh = conversation(cut + EPS)
    still_open = conversation(None, status="open")  # opened long ago, never closed: kept
    assert run("support-closed").deleted == 1
    assert set(SupportConversation.objects.values_list("pk", flat=True)) == {fresh.pk, still_open.pk}
    assert not SupportMessage.objects.filter(conversation_id=old.pk).exists()


def test_invoices_are_kept_seven_years(seeded):
    cut = months_back(84)

    def invoice(n, at):
        return Invoice.objects.create(
            number=f"INV-{n}", billing_company="Example BV", billing_address="1 Example St", amount_cents=100,
            issued_at=at,
        )  # fmt: skip

    invoice(1, cut - EPS)
    fresh = invoice(2, cut + EPS)
    # 7 x 365 days is short of 7 calendar years (leap days): such an invoice must still be kept.
    leap_short = invoice(3, NOW - timedelta(days=7 * 365))
    assert run("invoices-tax").deleted == 1
    assert set(Invoice.objects.values_list("pk", flat=True)) == {fresh.pk, leap_short.pk}


def _request(n, *, status, created_at, closed_at=None, verified_at=None, asked_at=None):
    data_request = DataRequest.objects.create(
        reference=f"DSR-TEST-{n:04d}", kind="access", status=status, requester_name=f"Req {n}",
        requester_email=f"req{n}@example.com", jurisdiction="gdpr", due_at=created_at + timedelta(days=30),
        received_at=created_at, closed_at=closed_at, verified_at=verified_at,
    )  # fmt: skip
    DataRequest.objects.filter(pk=data_request.pk).update(
        created_at=created_at, verification_requested_at=asked_at or created_at
    )
    return data_request


def test_unverified_requests_are_deleted_after_30_days(seeded):
    cut = NOW - timedelta(days=30)
    _request(1, status="awaiting_verification", created_at=cut - EPS)
    _request(2, status="expired", created_at=cut - EPS, closed_at=cut)
    fresh = _request(3, status="awaiting_verification", created_at=cut + EPS)
    verified = _request(4, status="verified", created_at=cut - timedelta(days=5), verified_at=cut)
    # Staff asked the sender for more before verification: counted from when they were last asked.
    _request(5, status="awaiting_requester", created_at=cut - timedelta(days=9))
    asked_again = _request(6, status="awaiting_requester", created_at=cut - timedelta(days=9), asked_at=cut + EPS)
    assert run("unverified-requests").deleted == 3
    assert set(DataRequest.objects.values_list("pk", flat=True)) == {fresh.pk, verified.pk, asked_again.pk}


def test_closed_request_records_are_kept_24_months_then_deleted_with_their_files(
    seeded, django_capture_on_commit_callbacks
):
    cut = months_back(24)
    long_ago = cut - timedelta(days=60)
    old = _request(1, status="completed", created_at=long_ago, closed_at=cut - EPS, verified_at=long_ago)
    RequestEvent.objects.create(data_request=old, kind="note", note="Answered")
    record_request_event(old, actor="requester", kind="note", note="Answered")
    attachment = RequestFile(data_request=old, purpose="attachment", name="id.pdf")
    attachment.file.save("id.pdf", ContentFile(b"%PDF made-up"), save=True)
    stored = attachment.file.path
    fresh = _request(2, status="denied", created_at=long_ago, closed_at=cut + EPS, verified_at=long_ago)
    record_request_event(fresh, actor=None, kind="note", note="Kept")
    still_open = _request(3, status="in_progress", created_at=long_ago, verified_at=long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        assert run("closed-requests").deleted == 1
    assert set(DataRequest.objects.values_list("pk", flat=True)) == {fresh.pk, still_open.pk}
    assert not RequestEvent.objects.filter(data_request_id=old.pk).exists()
    # Its audit trail, which holds the requester's masked address and notes, goes with it; others' stays.
    assert not old.events.exists() and fresh.events.filter(note="Kept").exists()
    # The record's stored files go with it (an identity document must not outlive the record).
    assert not Path(stored).exists()


def test_consent_log_entries_are_kept_the_configured_years(seeded, settings):
    years = settings.CONSENT_LOG_RETENTION_YEARS
    cut = months_back(12 * years)
    prop = Property.objects.create(name="Shop", allowed_origins="https://shop.example.com")

    def record(at):
        row = ConsentRecord.objects.create(
            consent_id=uuid.uuid4(), property=prop, revision=1, choices={"performance": True}, method="accept_all"
        )
        ConsentRecord.objects.filter(pk=row.pk).update(created_at=at)
        return row

    record(cut - EPS)
    fresh = record(cut + EPS)
    assert run("consent-log").deleted == 1
    assert list(ConsentRecord.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_inactive_accounts_are_warned_at_24_months_and_deleted_30_days_later(seeded, user_factory, mailoutbox):
    User = get_user_model()
    cut = months_back(24)
    sleeper = user_factory(email="sleeper@example.com")
    recent = user_factory(email="recent@example.com")
    User.objects.filter(pk=sleeper.pk).update(last_login=cut - EPS)
    User.objects.filter(pk=recent.pk).update(last_login=cut + EPS)

    assert notify_inactive_accounts(now=NOW)["warned"] == 1
    notice = InactiveAccountNotice.objects.get()
    assert notice.user_id == sleeper.pk
    grace_end = NOW + timedelta(days=30)
    assert notice.delete_after == grace_end
    assert notify_inactive_accounts(now=grace_end - EPS)["deleted"] == 0
    assert User.objects.get(pk=sleeper.pk).is_active
    assert notify_inactive_accounts(now=grace_end)["deleted"] == 1
    gone = User.objects.filter(pk=sleeper.pk).first()
    assert gone is None or not gone.is_active
    assert User.objects.get(pk=recent.pk).is_active


def test_inactive_account_policy_edits_in_admin_take_effect(seeded, user_factory):
    User = get_user_model()
    user = user_factory()
    User.objects.filter(pk=user.pk).update(last_login=NOW - timedelta(days=400))
    assert notify_inactive_accounts(now=NOW)["warned"] == 0  # 13 months: not yet under the default 24
    RetentionPolicy.objects.filter(name="inactive-accounts").update(period=12, customised=True)
    assert notify_inactive_accounts(now=NOW)["warned"] == 1
    InactiveAccountNotice.objects.all().delete()
    RetentionPolicy.objects.filter(name="inactive-accounts").update(enabled=False)
    assert notify_inactive_accounts(now=NOW)["warned"] == 0
