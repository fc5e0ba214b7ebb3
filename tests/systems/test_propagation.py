"""Opt-outs, withdrawn consents, restrictions and erasures reach the recipients that declare them (signed calls to
the reference receiver, or tasks for a manual system's owner), and the propagation ledger records each one with
its legal due date, its state and, when late, the privacy officers' reminder."""

import datetime as dt
import json
import time
import uuid

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from hypothesis import given
from hypothesis import strategies as st

from consent import services as consent_services
from consent.defaults import ensure_categories, ensure_purposes
from consent.models import CookieDeclaration, Property, Purpose
from fulfilment import connected, propagation
from fulfilment.models import Propagation, PropagationState
from requests_app.services import create_verified_request
from systems import webhooks
from systems.services import load_systems
from tests.systems.conftest import KEY

pytestmark = pytest.mark.django_db(transaction=False)


def _declare(port: int, *, manual_actions: str = "[opt_out, restriction]") -> None:
    load_systems(
        text=f"""\
systems:
  - key: adnetwork
    name: Ad network adapter
    kind: http
    owner: {{name: Marketing, email: marketing@example.com}}
    url: http://127.0.0.1:{port}
    secret_env: HELPDESK_WEBHOOK_SECRET
    timeout: 5
    actions: [opt_out, consent, restriction, erasure]
  - key: partner_list
    name: Partner mailing list
    kind: manual
    owner: {{name: Partnerships, email: partners@example.com}}
    actions: {manual_actions}
"""
    )


@pytest.fixture
def officer(user_factory):
    user = user_factory(is_staff=True, email="officer@example.com")
    user.groups.add(Group.objects.get(name="Privacy officer"))
    return user


def test_withdrawing_a_consent_reaches_the_receiver_once_and_the_ledger_marks_it_confirmed(
    receiver, user_factory, client, django_capture_on_commit_callbacks
):
    _declare(receiver["port"], manual_actions="[restriction]")
    ensure_purposes()
    ann = user_factory(email="ann@example.com")
    consent_services.set_purpose_consent(user=ann, purpose=Purpose.MARKETING, granted=True)
    assert receiver["calls"] == []  # a grant tells nobody
    with django_capture_on_commit_callbacks(execute=True):
        consent_services.set_purpose_consent(user=ann, purpose=Purpose.MARKETING, granted=False)
    [(action, signed, raw)] = receiver["calls"]
    body = json.loads(raw)
    assert (action, signed) == ("consent", True)
    assert body["identity"] == {"email": "ann@example.com", "user_id": ann.pk}
    assert (body["event"], body["purpose"], body["reference"]) == ("consent_withdrawn", "marketing", "")
    [row] = Propagation.objects.all()
    assert (row.recipient_name, row.state) == ("Ad network adapter", PropagationState.CONFIRMED)
    assert row.sent_at and row.confirmed_at and "Art. 7(3)" in row.rule
    assert (row.subject_email, row.user_id) == ("", ann.pk)  # once confirmed, the address is not kept
    assert row.due_at - row.created_at == pytest.approx(dt.timedelta(days=30), abs=dt.timedelta(seconds=5))
    client.force_login(ann)
    page = client.get("/account/consents/").content.decode()
    assert "Who we told" in page and "Ad network adapter" in page and "confirmed on" in page
    with django_capture_on_commit_callbacks(execute=True):  # an unsubscribe link used again changes nothing
        assert (
            consent_services.unsubscribe(token=consent_services.build_unsubscribe_url(user=ann).rsplit("/", 2)[-2])
            is None
        )
    assert len(receiver["calls"]) == 1


def test_an_asynchronous_confirmation_is_signed_and_a_replay_is_refused(
    receiver, user_factory, client, django_capture_on_commit_callbacks
):
    receiver["answers"]["consent"] = {"http_status": 202, "status": "accepted"}  # it will call back
    _declare(receiver["port"], manual_actions="[restriction]")
    ensure_purposes()
    with django_capture_on_commit_callbacks(execute=True):
        consent_services.set_purpose_consent(user=user_factory(), purpose=Purpose.RESEARCH, granted=False)
    row = Propagation.objects.get()
    assert row.state == PropagationState.SENT
    answer = json.dumps({"status": "done", "idempotency_key": str(row.idempotency_key)}).encode()
    url = f"/privacy/data/systems/callback/{row.idempotency_key}/"

    def post(signature):
        return client.post(
            url, answer, content_type="application/json", headers={"Privacy-Portal-Signature": signature}
        )

    assert post(webhooks.sign(b"wrong key", answer)).status_code == 403
    assert post(webhooks.sign(KEY.encode(), answer, at=int(time.time()) - 600)).status_code == 403  # stale
    good = webhooks.sign(KEY.encode(), answer)
    assert post(good).status_code == 200
    row.refresh_from_db()
    assert row.state == PropagationState.CONFIRMED
    assert post(good).status_code == 403  # a replay


def test_a_recipient_that_never_answers_goes_overdue_and_the_officers_hear_once_a_day(
    receiver, user_factory, officer, mailoutbox, django_capture_on_commit_callbacks
):
    receiver["answers"]["consent"] = {"http_status": 202, "status": "accepted"}  # and no callback, ever
    _declare(receiver["port"], manual_actions="[restriction]")
    ensure_purposes()
    with django_capture_on_commit_callbacks(execute=True):
        consent_services.set_purpose_consent(user=user_factory(), purpose=Purpose.MARKETING, granted=False)
    row = Propagation.objects.get()
    assert row.state == PropagationState.SENT
    late = row.due_at + dt.timedelta(hours=1)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert connected.remind_system_tasks(now=late)["notices_overdue"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert connected.remind_system_tasks(now=late + dt.timedelta(minutes=10))["notices_overdue"] == 0
    row.refresh_from_db()
    assert row.state == PropagationState.OVERDUE
    [digest] = [m for m in mailoutbox if m.to == ["officer@example.com"]]
    assert "Ad network adapter" in digest.body and "overdue=1" in digest.body


def test_an_opt_out_request_reaches_each_recipient_within_15_business_days_and_the_requester_sees_who(
    receiver, user_factory, officer, client, mailoutbox, django_capture_on_commit_callbacks
):
    _declare(receiver["port"])
    ann = user_factory(email="ann@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        data_request = create_verified_request(user=ann, kind="opt_out")
    assert [(c[0], c[1]) for c in receiver["calls"]] == [("opt_out", True)]
    body = json.loads(receiver["calls"][0][2])
    assert (body["event"], body["purpose"], body["reference"]) == ("opt_out", None, data_request.reference)
    rows = {r.recipient_key: r for r in data_request.propagations.all()}
    assert rows["adnetwork"].state == PropagationState.CONFIRMED
    assert rows["partner_list"].state == PropagationState.SENT and rows["partner_list"].task.action == "opt_out"
    assert "CCPA" in rows["adnetwork"].rule
    assert rows["adnetwork"].due_at.date() > data_request.received_at.date() + dt.timedelta(days=20)  # 3 weeks
    # The partner list's owner answers their task: the ledger follows.
    [mail] = [m for m in mailoutbox if m.to == ["partners@example.com"]]
    link = mail.body.split("/privacy/data/systems/tasks/")[1].split("/")[0]
    page = client.get(f"/privacy/data/systems/tasks/{link}/")
    assert "Stop selling or sharing this person" in page.content.decode()
    client.post(f"/privacy/data/systems/tasks/{link}/", {"answer": "none"})
    rows["partner_list"].refresh_from_db()
    assert rows["partner_list"].state == PropagationState.CONFIRMED

    client.force_login(ann)
    status = client.get(f"/requests/{data_request.reference}/").content.decode()
    assert "Who we told" in status and "Ad network adapter" in status and "Partner mailing list" in status
    assert "confirmed on" in status
    client.force_login(officer)
    staff = client.get(f"/admin/requests_app/datarequest/{data_request.pk}/change/").content.decode()
    assert "Recipients told" in staff and "CCPA" in staff
    ledger = client.get("/admin/fulfilment/propagation/").content.decode()
    assert "Ad network adapter" in ledger


def test_a_restriction_request_and_a_completed_erasure_reach_their_recipients(
    receiver, user_factory, officer, django_capture_on_commit_callbacks
):
    _declare(receiver["port"])
    with django_capture_on_commit_callbacks(execute=True):
        restricted = create_verified_request(user=user_factory(), kind="restriction")
    assert ("restriction", True) in [(c[0], c[1]) for c in receiver["calls"]]
    assert {r.recipient_key for r in restricted.propagations.all()} == {"adnetwork", "partner_list"}
    assert all("Art. 19" in r.rule for r in restricted.propagations.all())

    from fulfilment.models import ErasureRun
    from fulfilment.services import approve_erasure, execute_erasure

    with django_capture_on_commit_callbacks(execute=True):
        erased = create_verified_request(user=user_factory(), kind="erasure")
    with django_capture_on_commit_callbacks(execute=True):
        approve_erasure(data_request=erased, actor=officer)
    if ErasureRun.objects.get(data_request=erased).state != ErasureRun.State.COMPLETED:
        execute_erasure(data_request=erased)
    [row] = erased.propagations.all()  # the system that was asked to erase
    assert (row.recipient_key, row.event, row.state) == ("adnetwork", "erasure", PropagationState.CONFIRMED)
    assert row.task.action == "erasure" and "Art. 19" in row.rule


def test_gpc_from_a_logged_in_account_is_an_opt_out_told_once(
    receiver, user_factory, django_capture_on_commit_callbacks
):
    _declare(receiver["port"], manual_actions="[restriction]")
    categories = ensure_categories()
    prop = Property.objects.create(name="Shop", allowed_origins="https://shop.example.com")
    prop.categories.set(categories.values())
    CookieDeclaration.objects.create(
        property=prop, category=categories["targeting"], name="_ad", provider="Ads", purpose="Ads", duration="1 day"
    )
    ann = user_factory()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            consent_services.record_consent(
                property_key=prop.key,
                consent_id=uuid.uuid4(),
                revision=1,
                choices={},
                method="accept_all",
                gpc=True,
                user=ann,
            )
    assert [(c[0], json.loads(c[2])["purpose"]) for c in receiver["calls"]] == [("opt_out", "sale_or_sharing")]
    with django_capture_on_commit_callbacks(execute=True):  # without GPC, or anonymous: nobody is told
        consent_services.record_consent(
            property_key=prop.key, consent_id=uuid.uuid4(), revision=1, choices={}, method="accept_all", gpc=True
        )
    assert len(receiver["calls"]) == 1


def test_a_manual_recipient_outside_a_request_is_mailed_and_confirmed_by_staff(
    receiver, user_factory, officer, mailoutbox, django_capture_on_commit_callbacks
):
    _declare(receiver["port"], manual_actions="[consent]")
    ensure_purposes()
    with django_capture_on_commit_callbacks(execute=True):
        consent_services.set_purpose_consent(
            user=user_factory(email="bea@example.com"), purpose=Purpose.MARKETING, granted=False
        )
    row = Propagation.objects.get(recipient_key="partner_list")
    assert row.state == PropagationState.SENT
    [mail] = [m for m in mailoutbox if m.to == ["partners@example.com"]]
    title = str(Purpose.objects.get(key=Purpose.MARKETING))  # the purpose in words, not its key
    assert "bea@example.com" in mail.body and title in mail.body and "/privacy/data/recipients/confirm/" in mail.body
    agent = user_factory(is_staff=True, email="agent@example.com")
    agent.groups.add(Group.objects.get(name="Support agent"))
    with pytest.raises(PermissionDenied):
        propagation.confirm_propagation(row=row, actor=agent)
    propagation.confirm_propagation(row=row, actor=officer)
    row.refresh_from_db()
    assert row.state == PropagationState.CONFIRMED and row.confirmed_at is not None


@given(st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2030, 12, 31)))
def test_a_ccpa_opt_out_is_due_on_the_15th_business_day(day):
    from django.utils import timezone

    at = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
    due, rule = propagation.due_date(event="opt_out", at=at)
    local = timezone.localtime(due).date()
    business = [day + dt.timedelta(days=i) for i in range(1, 40) if (day + dt.timedelta(days=i)).weekday() < 5]
    assert local == business[14] and "15 business days" in rule


def test_the_gdpr_delay_is_the_setting(settings):
    from django.utils import timezone

    settings.PROPAGATION_GDPR_DAYS = 12
    now = timezone.now()
    due, rule = propagation.due_date(event="restriction", at=now)
    assert due - now == dt.timedelta(days=12) and "Art. 19" in rule and "12 days" in rule


def test_a_recipient_that_keeps_failing_is_marked_failed_and_the_officers_are_alerted(
    receiver, user_factory, officer, settings, mailoutbox, django_capture_on_commit_callbacks
):
    from celery.exceptions import Retry

    from fulfilment.tasks import send_propagation_task

    settings.SYSTEM_TASK_HTTP_RETRIES = 1
    receiver["answers"]["consent"] = {"http_status": 503}
    _declare(receiver["port"], manual_actions="[restriction]")
    with django_capture_on_commit_callbacks(execute=False):  # the worker's tries are run one by one below
        [row] = propagation.propagate_consent(user=user_factory(), purpose="marketing")
    with pytest.raises(Retry):
        send_propagation_task.apply(args=[row.pk], retries=0, throw=True)
    row.refresh_from_db()
    assert row.state == PropagationState.PENDING and "service unavailable" in row.error
    with django_capture_on_commit_callbacks(execute=True):
        send_propagation_task.apply(args=[row.pk], retries=1, throw=True)
    row.refresh_from_db()
    assert row.state == PropagationState.FAILED and "service unavailable" in row.error
    assert any(m.to == ["officer@example.com"] for m in mailoutbox)
    assert len(receiver["calls"]) == 2
