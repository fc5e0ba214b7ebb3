"""Self-service account deletion with a grace period, and the inactive-account warning and deletion."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from audit.models import AuditEvent
from fulfilment.lifecycle import execute_due_account_deletions, notify_inactive_accounts
from fulfilment.models import AccountDeletion, DeletionStatus, ErasureRun, InactiveAccountNotice, NoticeStatus
from registry.models import LegalHold
from requests_app.models import DataRequest
from tests.factories import DEFAULT_PASSWORD

User = get_user_model()


def _login(client, user):
    response = client.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD}, follow=True)
    assert response.wsgi_request.user.is_authenticated
    return response


@pytest.mark.smoke
def test_delete_page_needs_login(client, db):
    response = client.get("/account/delete/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_wrong_password_schedules_nothing(client, user_factory):
    user = user_factory()
    client.force_login(user)
    response = client.post("/account/delete/", {"password": "not-it-123", "confirm": "on"})
    assert response.status_code == 400
    assert "That is not your password." in response.content.decode()
    assert not AccountDeletion.objects.exists()


def test_delete_then_login_offers_cancel_and_cancel_withdraws_request(
    client, user_factory, mailoutbox, django_capture_on_commit_callbacks
):
    user = user_factory(email="leaving@example.com")
    client.force_login(user)
    page = client.get("/account/delete/").content.decode()
    assert "What we keep, and why" in page
    # Records the law makes us keep are named, with the reason: invoices (tax law), consent proof, request records.
    assert "Invoices are kept 7 years" in page and "accounting and tax law" in page
    assert "Proof of consent choices" in page and "CCPA record-keeping" in page
    assert "IP addresses of blog comments" not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/account/delete/", {"password": DEFAULT_PASSWORD, "confirm": "on"})
    assert response.status_code == 302
    deletion = AccountDeletion.objects.get(user=user)
    assert deletion.status == DeletionStatus.SCHEDULED
    assert deletion.execute_after - deletion.requested_at == timedelta(days=14)
    data_request = DataRequest.objects.get(pk=deletion.data_request_id)
    assert (data_request.kind, data_request.status, data_request.user_id) == ("erasure", "verified", user.pk)
    [scheduled] = [m for m in mailoutbox if m.to == ["leaving@example.com"] and "deletion is scheduled" in m.subject]
    assert re.search(r"after \d{1,2} [A-Z][a-z]+ \d{4} \(14 days", scheduled.body)

    client.logout()
    response = _login(client, user)
    shown = [str(m) for m in response.context["messages"]] if response.context else []
    assert any("/account/delete/cancel/" in m and "scheduled for deletion" in m for m in shown)

    assert "Cancel the deletion" in client.get("/account/delete/cancel/").content.decode()
    client.post("/account/delete/cancel/")
    deletion.refresh_from_db()
    data_request.refresh_from_db()
    assert deletion.status == DeletionStatus.CANCELLED
    assert data_request.status == "withdrawn"
    # Nothing left for the scheduled job to do.
    assert execute_due_account_deletions(now=timezone.now() + timedelta(days=30)) == {"executed": 0, "failed": 0}
    assert User.objects.get(pk=user.pk).is_active


def test_grace_period_end_executes_the_erasure(client, user_factory, django_capture_on_commit_callbacks):
    user = user_factory(email="gone@example.com")
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/delete/", {"password": DEFAULT_PASSWORD, "confirm": "on"})
    deletion = AccountDeletion.objects.get(user=user)
    # Not yet due: nothing happens.
    assert execute_due_account_deletions(now=timezone.now() + timedelta(days=13))["executed"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert execute_due_account_deletions(now=timezone.now() + timedelta(days=15))["executed"] == 1
    deletion.refresh_from_db()
    assert deletion.status == DeletionStatus.EXECUTED
    # Approved through the registry's audited self-service approval, not by a silent state change.
    approval = DataRequest.objects.get(pk=deletion.data_request_id).events.get(new="approved (self-service)")
    assert approval.actor_id is None and "account holder" in approval.note
    assert ErasureRun.objects.get(data_request_id=deletion.data_request_id).state == ErasureRun.State.COMPLETED
    remaining = User.objects.filter(pk=user.pk).first()
    assert remaining is None or not remaining.is_active
    assert not client.login(username=user.username, password=DEFAULT_PASSWORD)


def test_deletion_still_runs_when_the_holder_changed_e_mail_during_the_grace_period(
    client, user_factory, django_capture_on_commit_callbacks
):
    from allauth.account.models import EmailAddress

    from demo.models import NewsletterSubscription

    user = user_factory(email="before@example.com")
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/delete/", {"password": DEFAULT_PASSWORD, "confirm": "on"})
    # A newsletter signed up for with the old address and no account link, then the address changes.
    NewsletterSubscription.objects.create(email="before@example.com", list_name="news")
    EmailAddress.objects.filter(user=user).update(email="after@example.com")
    user.email = "after@example.com"
    user.save(update_fields=["email"])
    NewsletterSubscription.objects.create(email="after@example.com", list_name="news")
    deletion = AccountDeletion.objects.get(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        assert execute_due_account_deletions(now=timezone.now() + timedelta(days=15)) == {"executed": 1, "failed": 0}
    deletion.refresh_from_db()
    assert deletion.status == DeletionStatus.EXECUTED
    # Both addresses were the holder's: rows under either are erased.
    assert not NewsletterSubscription.objects.filter(email__in=["before@example.com", "after@example.com"]).exists()


def test_inactive_accounts_are_warned_then_deleted_unless_they_log_in(
    client, user_factory, mailoutbox, django_capture_on_commit_callbacks
):
    now = timezone.now()
    long_ago = now - timedelta(days=800)
    sleeper = user_factory(email="sleeper@example.com")
    returner = user_factory(email="returner@example.com")
    active = user_factory(email="active@example.com")
    held = user_factory(email="held@example.com")
    staff = user_factory(email="staff-old@example.com", is_staff=True)
    User.objects.filter(pk__in=[sleeper.pk, returner.pk, held.pk, staff.pk]).update(last_login=long_ago)
    User.objects.filter(pk=active.pk).update(last_login=now - timedelta(days=30))

    with django_capture_on_commit_callbacks(execute=True):
        result = notify_inactive_accounts(now=now)
    assert result["warned"] == 3
    warned_to = sorted(m.to[0] for m in mailoutbox)
    assert warned_to == ["held@example.com", "returner@example.com", "sleeper@example.com"]
    assert "log in" in mailoutbox[0].body
    # Plain words and a plain date, not a timestamp.
    assert "for 2 years." in mailoutbox[0].body
    assert re.search(r"after \d{1,2} [A-Z][a-z]+ \d{4} \(30 days from now\)", mailoutbox[0].body)
    # Running again the same day warns nobody twice.
    assert notify_inactive_accounts(now=now)["warned"] == 0

    _login(client, returner)  # a login cancels the warning
    assert InactiveAccountNotice.objects.get(user=returner).status == NoticeStatus.CANCELLED
    LegalHold.objects.create(user=held, reason="Pending litigation")

    # Before the grace period ends nothing is deleted.
    assert notify_inactive_accounts(now=now + timedelta(days=29))["deleted"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        result = notify_inactive_accounts(now=now + timedelta(days=31))
    assert (result["deleted"], result["kept_for_hold"]) == (1, 1)
    assert AuditEvent.objects.filter(
        request_reference__in=DataRequest.objects.filter(kind="erasure").values("reference"),
        new="approved (retention policy)",
        note__contains="inactive-account",
    ).exists()
    gone = User.objects.filter(pk=sleeper.pk).first()
    assert gone is None or not gone.is_active
    assert User.objects.get(pk=returner.pk).is_active
    assert User.objects.get(pk=held.pk).is_active
    assert User.objects.get(pk=active.pk).is_active


def test_one_account_that_cannot_be_erased_does_not_hold_up_the_others(
    user_factory, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Group

    from fulfilment import lifecycle as services

    officer = user_factory(email="officer@example.com", is_staff=True)
    officer.groups.add(Group.objects.get_or_create(name="Privacy officer")[0])
    now = timezone.now()
    stuck, gone = user_factory(email="stuck@example.com"), user_factory(email="gone@example.com")
    User.objects.filter(pk__in=[stuck.pk, gone.pk]).update(last_login=now - timedelta(days=800))
    notify_inactive_accounts(now=now)
    real_close = services.close_inactive_notice

    def close(*, notice, now):
        if notice.user_id == stuck.pk:
            raise RuntimeError("storage unavailable")
        return real_close(notice=notice, now=now)

    monkeypatch.setattr(services, "close_inactive_notice", close)
    with django_capture_on_commit_callbacks(execute=True):
        result = notify_inactive_accounts(now=now + timedelta(days=31))
    assert (result["deleted"], result["failed"]) == (1, 1)
    assert InactiveAccountNotice.objects.get(user=stuck).status == NoticeStatus.WARNED  # tried again next run
    remaining = User.objects.filter(pk=gone.pk).first()
    assert remaining is None or not remaining.is_active
    [alert] = [m for m in mailoutbox if m.to == ["officer@example.com"]]
    assert "storage unavailable" in alert.body


def test_account_under_legal_hold_is_not_warned(user_factory, mailoutbox, django_capture_on_commit_callbacks):
    held = user_factory(email="on-hold@example.com")
    User.objects.filter(pk=held.pk).update(last_login=timezone.now() - timedelta(days=800))
    LegalHold.objects.create(email="On-Hold@example.com", reason="Pending litigation")
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_inactive_accounts()["warned"] == 0
    assert not mailoutbox and not InactiveAccountNotice.objects.exists()


def test_a_failed_account_deletion_alerts_the_privacy_officers(
    client, user_factory, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Group

    officer = user_factory(email="officer@example.com", is_staff=True)
    officer.groups.add(Group.objects.get_or_create(name="Privacy officer")[0])
    user = user_factory(email="stuck@example.com")
    client.force_login(user)
    client.post("/account/delete/", {"password": DEFAULT_PASSWORD, "confirm": "on"})

    def broken(**kwargs):
        raise RuntimeError("storage unavailable")

    monkeypatch.setattr("fulfilment.lifecycle.execute_erasure", broken)
    with django_capture_on_commit_callbacks(execute=True):
        assert execute_due_account_deletions(now=timezone.now() + timedelta(days=15)) == {"executed": 0, "failed": 1}
    deletion = AccountDeletion.objects.get(user=user)
    assert deletion.status == DeletionStatus.FAILED and "storage unavailable" in deletion.error
    [alert] = [m for m in mailoutbox if m.to == ["officer@example.com"]]
    assert deletion.request_reference in alert.body and "storage unavailable" in alert.body


def test_officer_cannot_approve_erasure_during_self_service_grace_period(
    client, user_factory, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Group
    from django.core.exceptions import ValidationError

    from fulfilment.services import approve_erasure, preview_erasure
    from requests_app.services import submit_request

    officer = user_factory(email="officer@example.com", is_staff=True)
    officer.groups.add(Group.objects.get_or_create(name="Privacy officer")[0])
    user = user_factory(email="changing-mind@example.com")
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/delete/", {"password": DEFAULT_PASSWORD, "confirm": "on"})
    deletion = AccountDeletion.objects.get(user=user)
    data_request = DataRequest.objects.get(pk=deletion.data_request_id)
    preview_erasure(data_request=data_request)
    # An erasure request for the same account, sent by post from another address, waits for the grace period too.
    other, _created = submit_request(
        name="Changing Mind",
        email="old-address@example.com",
        kind="erasure",
        jurisdiction="gdpr",
        user=user,
        channel="post",
        identity_verified=True,
        actor=officer,
    )
    other.refresh_from_db()
    assert other.pk != data_request.pk and other.verified_at is not None
    preview_erasure(data_request=other)
    for request in (data_request, other):
        with pytest.raises(ValidationError, match="grace period"):
            approve_erasure(data_request=request, actor=officer)
        assert ErasureRun.objects.get(data_request=request).state == ErasureRun.State.PREVIEWED
    # Nor may the self-service approval run early.
    with pytest.raises(ValidationError, match="grace period"):
        approve_erasure(data_request=data_request, actor=user, self_service=True, queue=False)
    assert User.objects.get(pk=user.pk).is_active

    # The holder can still cancel; nothing was erased.
    client.post("/account/delete/cancel/")
    deletion.refresh_from_db()
    assert deletion.status == DeletionStatus.CANCELLED
    # Once no grace period runs, the officer decides the other request as usual.
    assert approve_erasure(data_request=other, actor=officer, queue=False).state == ErasureRun.State.APPROVED


def test_scheduled_job_approves_once_grace_period_ends(client, user_factory, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import Group
    from django.core.exceptions import ValidationError

    from fulfilment.services import approve_erasure, preview_erasure

    officer = user_factory(email="officer2@example.com", is_staff=True)
    officer.groups.add(Group.objects.get_or_create(name="Privacy officer")[0])
    user = user_factory(email="leaving-for-good@example.com")
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/delete/", {"password": DEFAULT_PASSWORD, "confirm": "on"})
    deletion = AccountDeletion.objects.get(user=user)
    data_request = DataRequest.objects.get(pk=deletion.data_request_id)
    preview_erasure(data_request=data_request)
    with pytest.raises(ValidationError, match="grace period"):
        approve_erasure(data_request=data_request, actor=officer)
    with django_capture_on_commit_callbacks(execute=True):
        assert execute_due_account_deletions(now=deletion.execute_after + timedelta(minutes=1))["executed"] == 1
    assert data_request.events.filter(new="approved (self-service)").exists()
    assert not data_request.events.filter(new="approved").exists()


def test_inactive_account_erasure_is_approved_by_the_policy_in_the_audit_trail(
    user_factory, django_capture_on_commit_callbacks
):
    from retention.selectors import inactive_accounts_policy_name

    now = timezone.now()
    sleeper = user_factory(email="long-asleep@example.com")
    User.objects.filter(pk=sleeper.pk).update(last_login=now - timedelta(days=800))
    with django_capture_on_commit_callbacks(execute=True):
        notify_inactive_accounts(now=now)
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_inactive_accounts(now=now + timedelta(days=31))["deleted"] == 1
    notice = InactiveAccountNotice.objects.get(status=NoticeStatus.DELETED)
    assert notice.data_request_id is not None
    run = ErasureRun.objects.get(data_request_id=notice.data_request_id)
    assert run.state == ErasureRun.State.COMPLETED and run.approved_by is None and run.approved_at is not None
    approval = DataRequest.objects.get(pk=notice.data_request_id).events.get(new="approved (retention policy)")
    assert approval.actor_id is None
    assert approval.actor_label == f"retention policy {inactive_accounts_policy_name()}"
    assert inactive_accounts_policy_name() in approval.note


def test_policy_approval_only_for_the_inactive_account_flow_after_its_warning(user_factory):
    from django.core.exceptions import PermissionDenied

    from fulfilment.services import approve_erasure, preview_erasure
    from requests_app.services import create_verified_request
    from retention.selectors import inactive_accounts_policy_name

    policy = inactive_accounts_policy_name()
    now = timezone.now()
    user = user_factory(email="asleep@example.com")
    User.objects.filter(pk=user.pk).update(last_login=now - timedelta(days=800))
    data_request = create_verified_request(user=user, kind="erasure")
    preview_erasure(data_request=data_request)
    # An ordinary erasure request: no policy may approve it.
    with pytest.raises(PermissionDenied):
        approve_erasure(data_request=data_request, policy=policy, queue=False)
    notice = InactiveAccountNotice.objects.create(
        user=user, warned_at=now, delete_after=now + timedelta(days=30), data_request_id=data_request.pk
    )
    # Linked, but the warning period still runs.
    with pytest.raises(PermissionDenied):
        approve_erasure(data_request=data_request, policy=policy, queue=False, now=now + timedelta(days=29))
    # Another policy's name is not the inactive-account policy.
    with pytest.raises(PermissionDenied):
        approve_erasure(data_request=data_request, policy="invoices-tax", queue=False, now=now + timedelta(days=31))
    # A person cannot approve in a policy's name.
    with pytest.raises(ValueError):
        approve_erasure(data_request=data_request, actor=user, policy=policy, now=now + timedelta(days=31))
    # A login after the warning proves the account is in use.
    User.objects.filter(pk=user.pk).update(last_login=now + timedelta(days=1))
    with pytest.raises(PermissionDenied):
        approve_erasure(data_request=data_request, policy=policy, queue=False, now=now + timedelta(days=31))
    User.objects.filter(pk=user.pk).update(last_login=now - timedelta(days=800))
    run = approve_erasure(data_request=data_request, policy=policy, queue=False, now=now + timedelta(days=31))
    assert run.state == ErasureRun.State.APPROVED and run.approved_by is None
    assert notice.data_request_id == data_request.pk
    assert data_request.events.filter(
        actor_label=f"retention policy {policy}", new="approved (retention policy)"
    ).exists()


def test_erasure_review_offers_no_approval_during_self_service_grace_period(
    client, user_factory, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Group
    from django.urls import reverse

    from fulfilment.services import preview_erasure

    officer = user_factory(email="officer@example.com", is_staff=True)
    officer.groups.add(Group.objects.get_or_create(name="Privacy officer")[0])
    user = user_factory(email="waiting@example.com")
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/delete/", {"password": DEFAULT_PASSWORD, "confirm": "on"})
    deletion = AccountDeletion.objects.get(user=user)
    data_request = DataRequest.objects.get(pk=deletion.data_request_id)
    preview_erasure(data_request=data_request)

    client.force_login(officer)
    url = reverse("fulfilment:erasure_review", args=[data_request.pk])
    html = client.get(url).content.decode()
    assert "Approve and erase" not in html
    assert "grace period that ends on" in html

    client.force_login(user)
    client.post("/account/delete/cancel/")
    client.force_login(officer)
    html = client.get(url).content.decode()
    assert "grace period that ends on" not in html
