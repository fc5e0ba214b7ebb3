"""Scheduled jobs: reminders, escalation, expiry; and the mails end to end over real SMTP."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from requests_app import services
from requests_app.models import DataRequest, RequestStatus, SentReminder
from requests_app.tasks import expire_unverified_requests_task, send_deadline_reminders_task

S = RequestStatus


def _due_in(dr, days, now):
    DataRequest.objects.filter(pk=dr.pk).update(due_at=now + timedelta(days=days, hours=1))


@pytest.mark.smoke
def test_reminders_sent_once_to_assignee_and_officers(
    verified_request, agent, privacy_officer, staff_user, django_capture_on_commit_callbacks, mailoutbox, settings
):
    settings.DSR_REMINDER_OFFSETS_DAYS = [7, 2]
    # Escalations repeat once per local day: at noon, "five minutes later" is the same day whenever the suite runs.
    now = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    soon = services.assign_request(data_request=verified_request(), assignee=agent, actor=staff_user)
    _due_in(soon, 6, now)
    overdue = verified_request()
    DataRequest.objects.filter(pk=overdue.pk).update(due_at=now - timedelta(days=1))
    unassigned = verified_request()
    DataRequest.objects.filter(pk=unassigned.pk).update(received_at=now - timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.send_deadline_reminders(now=now)
    assert counts == {"assignee": 1, "escalation": 2}
    to_agent = [m for m in mailoutbox if agent.email in m.to]
    to_officer = [m for m in mailoutbox if privacy_officer.email in m.to]
    assert len(to_agent) == 1 and soon.reference in to_agent[0].body
    assert (
        len(to_officer) == 1 and overdue.reference in to_officer[0].body and unassigned.reference in to_officer[0].body
    )
    # Running again (or via the command and the task) sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_deadline_reminders(now=now + timedelta(minutes=5)) == {"assignee": 0, "escalation": 0}
        call_command("send_deadline_reminders")
        send_deadline_reminders_task.delay()
    assert len(mailoutbox) == 2
    # The 2-day reminder comes later; escalation repeats the next day.
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.send_deadline_reminders(now=now + timedelta(days=4, hours=2))
    assert counts["assignee"] == 1 and counts["escalation"] >= 2


def test_reminders_use_constant_number_of_queries(
    verified_request, agent, privacy_officer, staff_user, django_assert_max_num_queries
):
    now = timezone.now()

    def make(n):
        for _ in range(n):
            dr = services.assign_request(data_request=verified_request(), assignee=agent, actor=staff_user)
            _due_in(dr, 1, now)
            DataRequest.objects.filter(pk=verified_request().pk).update(due_at=now - timedelta(days=2))

    make(2)
    with django_assert_max_num_queries(8):
        services.send_deadline_reminders(now=now)
    make(25)
    with django_assert_max_num_queries(8):
        counts = services.send_deadline_reminders(now=now + timedelta(hours=1))
    assert counts["assignee"] == 25
    assert SentReminder.objects.filter(kind="assignee").values("data_request").distinct().count() == 27


def test_late_assignment_gets_one_reminder_not_one_per_offset(verified_request, agent, staff_user, settings):
    settings.DSR_REMINDER_OFFSETS_DAYS = [7, 2]
    now = timezone.now()
    dr = services.assign_request(data_request=verified_request(), assignee=agent, actor=staff_user)
    _due_in(dr, 1, now)
    assert services.send_deadline_reminders(now=now)["assignee"] == 1
    assert SentReminder.objects.filter(data_request=dr, kind="assignee").count() == 2


def test_expiry_command_and_task(make_request):
    dr = make_request()
    DataRequest.objects.filter(pk=dr.pk).update(verification_requested_at=timezone.now() - timedelta(days=15))
    call_command("expire_unverified_requests")
    dr.refresh_from_db()
    assert dr.status == S.EXPIRED
    assert expire_unverified_requests_task.delay().get() == {"expired": 0, "reminded": 0}


# --- mails end to end over a real SMTP server ------------------------------------------------


def _html(msg):
    return msg.get_body(preferencelist=("html",)).get_content()


@pytest.mark.smoke
def test_intake_mails_over_smtp_with_verification_link(client, smtp_server, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/requests/new/",
            {
                "kind": "access",
                "requester_name": "Sam Example",
                "requester_email": "sam@example.com",
                "relationship": "customer",
                "jurisdiction": "ccpa",
                "details": "",
            },
        )
    dr = DataRequest.objects.get()
    msgs = smtp_server.wait_for("sam@example.com", count=2)
    ack = next(m for m in msgs if "received" in m["Subject"])
    text = smtp_server.text(ack)
    assert dr.reference in text and "/requests/status/" in text
    assert dr.due_date.strftime("%Y") in text
    assert "/requests/status/" in _html(ack)
    verification = next(m for m in msgs if "confirm" in m["Subject"].lower())
    assert "/requests/verify/" in smtp_server.text(verification)
    assert ack["Auto-Submitted"] == "auto-generated"


@pytest.mark.parametrize(
    "action, subject_word, body_words",
    [
        ("info", "more information", ["Which account"]),
        ("extend", "more time", ["Large archive"]),
        ("deny", "answer", ["Manifestly unfounded", "Authority Example", "authority.example.com"]),
        ("complete", "completed", ["Here is everything"]),
        ("message", "New message", ["Quick question"]),
    ],
)
def test_workflow_mails_over_smtp(
    action, subject_word, body_words, verified_request, staff_user, smtp_server, django_capture_on_commit_callbacks
):
    from core.models import Organisation
    from core.selectors import get_organisation

    org = get_organisation()
    Organisation.objects.filter(pk=org.pk).update(
        supervisory_authority_name="Authority Example", supervisory_authority_url="https://authority.example.com/"
    )
    from django.core.cache import cache

    cache.clear()
    dr = verified_request(email="flow@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        if action == "info":
            services.request_information(data_request=dr, actor=staff_user, message="Which account is it?")
        elif action == "extend":
            services.extend_deadline(data_request=dr, actor=staff_user, reason="Large archive to search.")
        elif action == "deny":
            services.deny_request(
                data_request=dr, actor=staff_user, reason="manifestly_unfounded", requester_text="Tenth copy this week."
            )
        elif action == "complete":
            services.complete_request(data_request=dr, actor=staff_user, summary="Here is everything we hold.")
        else:
            services.post_message(data_request=dr, body="Quick question for you.", author=staff_user, from_staff=True)
    msgs = smtp_server.wait_for("flow@example.com", count=1)
    msg = next(m for m in msgs if subject_word.lower() in m["Subject"].lower())
    text = smtp_server.text(msg)
    for word in body_words:
        assert word in text
        assert word in _html(msg)


def test_mail_in_requester_language(smtp_server, make_request, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_request(email="marie@example.com", language="fr")
    msgs = smtp_server.wait_for("marie@example.com", count=2)
    assert any("demande" in m["Subject"].lower() for m in msgs)


def test_verification_reminder_mail_carries_fresh_link(make_request, smtp_server, django_capture_on_commit_callbacks):
    dr = make_request(email="late@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        services.expire_unverified_requests(now=dr.received_at + timedelta(days=12))
    (msg,) = smtp_server.wait_for("late@example.com")
    assert "Reminder" in msg["Subject"] and "/requests/verify/" in smtp_server.text(msg)


@pytest.mark.postgres
@pytest.mark.redis
def test_mails_go_through_a_real_celery_worker(client, smtp_server, celery_worker_process):
    response = client.post(
        "/requests/new/",
        {
            "kind": "erasure",
            "requester_name": "Wren Example",
            "requester_email": "wren@example.com",
            "relationship": "visitor",
            "jurisdiction": "lgpd",
        },
    )
    assert response.status_code == 302
    try:
        msgs = smtp_server.wait_for("wren@example.com", count=2, timeout=120)
    except AssertionError:
        print(celery_worker_process["log"].read_text()[-4000:])
        raise
    reference = DataRequest.objects.get().reference
    assert all(reference in m["Subject"] for m in msgs)
