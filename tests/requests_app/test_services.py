from datetime import UTC, date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from requests_app import services
from requests_app.models import DataRequest, EventKind, RequestStatus, VerificationToken
from requests_app.signals import request_verified

S = RequestStatus


@pytest.mark.smoke
def test_submit_request_sets_reference_due_date_and_audit(make_request):
    dr = make_request(jurisdiction="gdpr")
    assert dr.reference.startswith(f"DSR-{timezone.localtime(dr.received_at).year}-")
    assert dr.status == S.AWAITING_VERIFICATION
    received = services.today(dr.received_at)
    from requests_app.deadlines import add_months

    assert dr.due_date == add_months(received, 1)
    assert dr.events.filter(verb=EventKind.CREATED).count() == 1


def test_repeat_request_joins_the_open_one_only_once_verified_and_counts_once(
    make_request, staff_user, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from requests_app.metrics import build_metrics

    first = services.verify_request(
        data_request=make_request(email="same@example.com", kind="erasure"), actor=staff_user
    )
    second = make_request(
        email="SAME@example.com",
        kind="erasure",
        details="Again please",
        attachment=SimpleUploadedFile("letter.txt", b"my letter", content_type="text/plain"),
    )
    # Until its sender proves they control the address, nothing of it reaches the first request.
    assert second.pk != first.pk and second.reference != first.reference
    assert second.status == S.AWAITING_VERIFICATION
    assert not first.messages.exists() and not first.files.exists()
    assert not first.events.filter(verb=EventKind.LINKED).exists()

    received = []

    def receiver(sender, data_request, **kwargs):
        received.append(data_request.pk)

    request_verified.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            linked, newly = services.verify_with_token(token=services.issue_verification_token(data_request=second))
    finally:
        request_verified.disconnect(receiver)
    assert newly and linked.pk == second.pk
    second.refresh_from_db()
    assert second.status == S.WITHDRAWN and second.merged_into == first
    assert first.messages.get().body == "Again please"
    assert first.files.get().name == "letter.txt"
    assert first.events.filter(verb=EventKind.LINKED, new=second.reference).exists()
    assert received == []  # the first request's fulfilment already started; nothing starts twice
    services.summarise_requests()
    assert build_metrics()["total"] == 1
    other_kind = make_request(email="same@example.com", kind="access")
    services.summarise_requests()
    assert other_kind.pk != first.pk and build_metrics()["total"] == 2


def test_verified_repeat_is_added_at_once_and_unverified_first_request_is_left_alone(user_factory, make_request):
    owner = user_factory(email="owner@example.com")
    first = services.create_verified_request(user=owner, kind="erasure")
    again = services.create_verified_request(user=owner, kind="erasure", details="Close it soon, please.")
    assert again.pk == first.pk and DataRequest.objects.count() == 1
    assert first.messages.get().body == "Close it soon, please."
    # A request from someone who has not proved the address is never joined by the verified owner's ...
    stranger = make_request(email="owner@example.com", kind="access", details="Not the owner's words")
    mine = services.create_verified_request(user=owner, kind="access")
    assert mine.pk != stranger.pk and not mine.messages.exists()
    # ... until it is verified itself: then it is folded into the owner's verified one.
    stranger = services.verify_request(data_request=stranger, actor="requester")
    assert stranger.merged_into == mine and mine.messages.get().body == "Not the owner's words"


@pytest.mark.smoke
def test_verification_token_is_hashed_single_use_and_sends_signal(make_request, django_capture_on_commit_callbacks):
    dr = make_request(kind="erasure")  # an erasure waits for its own approval, not for a release approval
    token = services.issue_verification_token(data_request=dr)
    row = VerificationToken.objects.get(data_request=dr)
    assert token.split(".")[1] not in row.verifier_hash
    received = []

    def receiver(sender, data_request, **kwargs):
        received.append(data_request.pk)

    request_verified.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            verified, newly = services.verify_with_token(token=token)
    finally:
        request_verified.disconnect(receiver)
    assert newly and verified.status == S.VERIFIED and verified.verified_at
    assert received == [dr.pk]
    _again, newly_again = services.verify_with_token(token=token)
    assert newly_again is False


def test_verification_token_expires_after_ttl(make_request, settings):
    dr = make_request()
    token = services.issue_verification_token(data_request=dr)
    VerificationToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ValidationError) as exc:
        services.verify_with_token(token=token)
    assert exc.value.code == "expired"
    dr.refresh_from_db()
    assert dr.status == S.AWAITING_VERIFICATION


def test_verification_attempts_are_limited(make_request, settings):
    settings.DSR_VERIFICATION_MAX_ATTEMPTS = 3
    dr = make_request()
    token = services.issue_verification_token(data_request=dr)
    selector = token.split(".")[0]
    for _ in range(3):
        with pytest.raises(ValidationError):
            services.verify_with_token(token=f"{selector}.wrong")
    with pytest.raises(ValidationError) as exc:
        services.verify_with_token(token=token)  # the right one is now locked too
    assert exc.value.code == "locked"
    assert VerificationToken.objects.get().attempts == 3


def test_forged_token_is_refused(make_request):
    make_request()
    with pytest.raises(ValidationError):
        services.verify_with_token(token="nope.nope")


def test_transition_refuses_invalid_moves_with_clear_error(make_request, staff_user):
    dr = make_request()
    with pytest.raises(ValidationError) as exc:
        services.transition_request(data_request=dr, to_status=S.COMPLETED, actor=staff_user)
    assert "cannot become" in exc.value.messages[0]
    with pytest.raises(ValidationError):
        services.transition_request(data_request=dr, to_status=S.IN_PROGRESS, actor=staff_user)
    services.withdraw_request(data_request=dr, actor=staff_user)
    with pytest.raises(ValidationError):
        services.transition_request(data_request=dr, to_status=S.VERIFIED, actor=staff_user)


@pytest.mark.parametrize(
    "path",
    [
        [S.VERIFIED, S.IN_PROGRESS, S.AWAITING_REQUESTER, S.IN_PROGRESS],
        [S.AWAITING_REQUESTER, S.VERIFIED, S.IN_PROGRESS],
        [S.EXPIRED],
        [S.VERIFIED, S.WITHDRAWN],
    ],
)
def test_allowed_paths_write_audit_trail(make_request, staff_user, path):
    dr = make_request()
    for status in path:
        dr = services.transition_request(data_request=dr, to_status=status, actor=staff_user, note="x")
    trail = list(dr.events.filter(verb=EventKind.STATUS).values_list("old", "new"))
    expected = list(zip([S.AWAITING_VERIFICATION, *path[:-1]], path, strict=True))
    assert trail == expected
    assert all(e.actor == staff_user for e in dr.events.filter(verb=EventKind.STATUS))


def test_closed_statuses_set_closed_at_and_cannot_reopen(verified_request, staff_user):
    dr = services.complete_request(data_request=verified_request(), actor=staff_user, summary="Sent your data.")
    assert dr.status == S.COMPLETED and dr.closed_at
    for status in S.values:
        with pytest.raises(ValidationError):
            services.transition_request(data_request=dr, to_status=status, actor=staff_user)


def test_deny_needs_listed_reason_and_text(verified_request, staff_user):
    dr = verified_request()
    with pytest.raises(ValidationError):
        services.transition_request(data_request=dr, to_status=S.DENIED, actor=staff_user)
    with pytest.raises(ValidationError):
        services.deny_request(data_request=dr, actor=staff_user, reason="because", requester_text="No")
    with pytest.raises(ValidationError):
        services.deny_request(data_request=dr, actor=staff_user, reason="not_our_data", requester_text=" ")
    dr = services.deny_request(
        data_request=dr, actor=staff_user, reason="not_our_data", requester_text="We hold nothing about you."
    )
    assert dr.status == S.DENIED and dr.denial_reason == "not_our_data"


def test_extension_once_within_first_month(make_request, staff_user):
    dr = make_request(jurisdiction="gdpr")
    original = dr.due_date
    dr = services.extend_deadline(data_request=dr, reason="Many systems to search.", actor=staff_user)
    from requests_app.deadlines import add_months

    assert dr.due_date == add_months(original, 2)
    with pytest.raises(ValidationError):
        services.extend_deadline(data_request=dr, reason="Again", actor=staff_user)
    late = make_request(jurisdiction="uk_gdpr")
    with pytest.raises(ValidationError):
        services.extend_deadline(
            data_request=late, reason="Too late", actor=staff_user, now=late.due_at + timedelta(days=1)
        )
    with pytest.raises(ValidationError):
        services.extend_deadline(data_request=make_request(jurisdiction="lgpd"), reason="x", actor=staff_user)


def test_complete_request_stores_result_files_privately(verified_request, staff_user, settings):
    dr = services.complete_request(
        data_request=verified_request(), actor=staff_user, summary="Done", files=[("result.txt", b"hello")]
    )
    f = dr.files.get()
    assert f.purpose == "result"
    path = f.file.path
    assert path.startswith(str(settings.PRIVATE_ROOT))
    assert open(path, "rb").read() == b"hello"


def test_create_verified_request_for_self_service(user_factory):
    user = user_factory(first_name="Ada", last_name="Example")
    dr = services.create_verified_request(user=user, kind="erasure", details="Close my account")
    assert dr.status == S.VERIFIED and dr.user == user and dr.requester_email == user.email
    assert dr.channel == "account"


def test_requester_reply_moves_awaiting_requester_back(verified_request, staff_user):
    dr = services.request_information(data_request=verified_request(), actor=staff_user, message="Which account?")
    assert dr.status == S.AWAITING_REQUESTER
    services.post_message(data_request=dr, body="The one with my work e-mail.", from_staff=False)
    dr.refresh_from_db()
    assert dr.status == S.IN_PROGRESS
    assert [m.from_staff for m in dr.messages.all()] == [True, False]


def test_expire_unverified_reminds_once_then_expires(make_request, settings):
    settings.DSR_UNVERIFIED_EXPIRY_DAYS = 14
    dr = make_request()
    start = dr.received_at
    assert services.expire_unverified_requests(now=start + timedelta(days=5)) == {"expired": 0, "reminded": 0}
    assert services.expire_unverified_requests(now=start + timedelta(days=12)) == {"expired": 0, "reminded": 1}
    assert services.expire_unverified_requests(now=start + timedelta(days=13)) == {"expired": 0, "reminded": 0}
    assert services.expire_unverified_requests(now=start + timedelta(days=14, seconds=1)) == {
        "expired": 1,
        "reminded": 0,
    }
    dr.refresh_from_db()
    assert dr.status == S.EXPIRED


def test_back_dated_intake_gets_the_whole_verification_window_and_its_reminder(make_request, settings):
    settings.DSR_UNVERIFIED_EXPIRY_DAYS = 14
    # A letter logged 15 days after it arrived: the legal deadline runs from the letter, ...
    received = timezone.now() - timedelta(days=15)
    dr = make_request(received_at=received, channel="post")
    from requests_app.deadlines import add_months

    assert dr.due_date == add_months(services.today(received), 1)
    # ... but the requester only now gets the verification link, and has the whole window to open it.
    entered = timezone.now()
    assert services.expire_unverified_requests(now=entered) == {"expired": 0, "reminded": 0}
    token = services.issue_verification_token(data_request=dr)
    assert services.expire_unverified_requests(now=entered + timedelta(days=11, hours=1)) == {
        "expired": 0,
        "reminded": 1,
    }
    assert services.expire_unverified_requests(now=entered + timedelta(days=13)) == {"expired": 0, "reminded": 0}
    verified, newly = services.verify_with_token(token=token)
    assert newly and verified.status == S.VERIFIED


def test_back_dated_intake_expires_a_full_window_after_entry(make_request, settings):
    settings.DSR_UNVERIFIED_EXPIRY_DAYS = 14
    dr = make_request(received_at=timezone.now() - timedelta(days=20), channel="phone")
    entered = timezone.now()
    assert services.expire_unverified_requests(now=entered + timedelta(days=13, hours=23))["expired"] == 0
    assert services.expire_unverified_requests(now=entered + timedelta(days=14, seconds=1))["expired"] == 1
    dr.refresh_from_db()
    assert dr.status == S.EXPIRED


def test_unverified_requester_reply_sends_awaiting_requester_back_to_verification(make_request, staff_user):
    dr = make_request()
    dr = services.request_information(data_request=dr, actor=staff_user, message="Please send a copy of your ID.")
    assert dr.status == S.AWAITING_REQUESTER
    services.post_message(data_request=dr, body="Here is what you asked for.", from_staff=False)
    dr.refresh_from_db()
    assert dr.status == S.AWAITING_VERIFICATION and dr.verified_at is None
    assert dr.events.filter(verb=EventKind.STATUS, old=S.AWAITING_REQUESTER, new=S.AWAITING_VERIFICATION).exists()
    # Verifying still works from there.
    dr = services.verify_request(data_request=dr, actor=staff_user)
    assert dr.status == S.VERIFIED


def test_unverified_request_left_awaiting_requester_is_reminded_then_expires(make_request, staff_user, settings):
    settings.DSR_UNVERIFIED_EXPIRY_DAYS = 14
    dr = services.request_information(data_request=make_request(), actor=staff_user, message="Which account?")
    asked = dr.verification_requested_at
    assert services.expire_unverified_requests(now=asked + timedelta(days=12)) == {"expired": 0, "reminded": 1}
    assert services.expire_unverified_requests(now=asked + timedelta(days=13)) == {"expired": 0, "reminded": 0}
    assert services.expire_unverified_requests(now=asked + timedelta(days=14, seconds=1)) == {
        "expired": 1,
        "reminded": 0,
    }
    dr.refresh_from_db()
    assert dr.status == S.EXPIRED and dr.closed_at


def test_asking_an_unverified_requester_restarts_the_verification_window(make_request, staff_user, settings):
    settings.DSR_UNVERIFIED_EXPIRY_DAYS = 14
    dr = make_request()
    # The request entered 13 days ago, and its requester was reminded yesterday.
    entered = timezone.now() - timedelta(days=13)
    DataRequest.objects.filter(pk=dr.pk).update(verification_requested_at=entered)
    assert services.expire_unverified_requests(now=entered + timedelta(days=12))["reminded"] == 1
    dr = services.request_information(data_request=dr, actor=staff_user, message="Please send your ID.")
    asked = dr.verification_requested_at
    assert asked > entered + timedelta(days=12)
    assert services.expire_unverified_requests(now=entered + timedelta(days=15))["expired"] == 0
    # The new window gets its own reminder, and ends a full window after staff asked.
    assert services.expire_unverified_requests(now=asked + timedelta(days=12)) == {"expired": 0, "reminded": 1}
    assert services.expire_unverified_requests(now=asked + timedelta(days=13))["reminded"] == 0
    assert services.expire_unverified_requests(now=asked + timedelta(days=14, seconds=1))["expired"] == 1


def test_verified_request_cannot_go_back_to_verification_or_expire(verified_request, staff_user):
    dr = services.request_information(data_request=verified_request(), actor=staff_user, message="Which account?")
    for status in (S.AWAITING_VERIFICATION, S.EXPIRED):
        with pytest.raises(ValidationError) as exc:
            services.transition_request(data_request=dr, to_status=status, actor=staff_user)
        assert exc.value.code == "already_verified"
    assert services.expire_unverified_requests(now=timezone.now() + timedelta(days=60)) == {
        "expired": 0,
        "reminded": 0,
    }


def test_received_date_in_organisation_time_zone(make_request, settings):
    settings.TIME_ZONE = "Europe/Brussels"
    dr = make_request()
    # 23:30 UTC on 31 January is already 1 February in Brussels.
    from datetime import datetime

    from requests_app.services import _compute_dates

    dates = _compute_dates(jurisdiction="gdpr", kind="access", received_at=datetime(2027, 1, 31, 23, 30, tzinfo=UTC))
    assert timezone.localtime(dates["due_at"]).date() == date(2027, 3, 1)
    assert dr


def test_demo_seed_is_idempotent_and_touches_no_account(db, staff_user):
    import io

    from requests_app.demo_data import seed
    from requests_app.metrics import build_metrics

    seed(users=50, stdout=io.StringIO())
    seed(users=50, stdout=io.StringIO())
    qs = DataRequest.objects.all()
    assert 30 <= qs.count() <= 50 and not qs.filter(user__isnull=False).exists()
    assert {s for s in qs.values_list("status", flat=True)} == set(S.values)
    figures = build_metrics()
    assert figures["total"] == qs.count() and figures["overall"]["median_days"] is not None


def test_resending_the_verification_link_is_limited_per_request(
    make_request, staff_user, mailoutbox, django_capture_on_commit_callbacks
):
    dr = make_request(email="resend@example.com")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            services.resend_verification(data_request=dr)
    assert len([m for m in mailoutbox if "resend@example.com" in m.to]) == 3
    # Once verified, nothing is sent, and the budget of another request is its own.
    other = make_request(email="other@example.com")
    services.verify_request(data_request=other, actor=staff_user)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.resend_verification(data_request=other)
    assert mailoutbox == []


def test_requests_are_assigned_only_to_active_staff(make_request, staff_user, user_factory):
    dr = make_request()
    for nobody in (user_factory(email="customer@example.com"), user_factory(is_staff=True, is_active=False)):
        with pytest.raises(ValidationError) as exc:
            services.assign_request(data_request=dr, assignee=nobody, actor=staff_user)
        assert exc.value.code == "not_staff"
    assert services.assign_request(data_request=dr, assignee=staff_user, actor=staff_user).assignee == staff_user
