"""Legal holds in erasure: held rows survive cascades and protected keys, and requesters never read the staff's reason."""

import json
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from fulfilment import services
from fulfilment.models import ErasureRun, ErasureStep
from registry.models import LegalHold


def _erase(data_request, officer):
    services.preview_erasure(data_request=data_request)
    services.approve_erasure(data_request=data_request, actor=officer)
    return services.execute_erasure(data_request=data_request)


def _step(run, dataset) -> ErasureStep:
    return run.steps.get(dataset=dataset)


@pytest.mark.django_db
def test_hold_on_one_to_one_profiles_keeps_the_profile_and_the_account_stays_deactivated_and_cleared(
    user_factory, subject_data, verified_request_for, officer
):
    from demo.models import Profile, TrafficLog

    user = user_factory(username="h.vandermeer", first_name="Hendrika", last_name="Vandermeer")
    data = subject_data(user)
    LegalHold.objects.create(dataset="demo.Profile", reason="Employment dispute 17")
    data_request = verified_request_for(user, kind="erasure")
    preview = services.preview_erasure(data_request=data_request)
    planned = {p["dataset"]: p for p in preview.preview["datasets"]}
    # The preview already says that the account stays, and why.
    assert planned["auth.User"]["delete_rows"] == 0
    assert "Employment dispute 17" in planned["auth.User"]["kept"][0]["reason"]

    services.approve_erasure(data_request=data_request, actor=officer)
    run = services.execute_erasure(data_request=data_request)

    assert run.state == ErasureRun.State.COMPLETED
    profile = Profile.objects.get(user_id=user.pk)  # the held profile, unchanged
    assert profile.company.startswith("Company ") and profile.phone == "+32 470 000000"
    account = get_user_model().objects.get(pk=user.pk)
    assert not account.is_active and not account.has_usable_password()
    assert (account.email, account.first_name, account.last_name) == ("", "", "")
    assert "vandermeer" not in account.username.lower()
    assert not TrafficLog.objects.filter(ip_address=data["ip"]).exists()  # the rest is erased as usual
    account_step = _step(run, "auth.User")
    assert account_step.state == ErasureStep.State.KEPT and account_step.counts["deactivated"] == 1
    kept = [k for k in run.report["kept"] if k["dataset"] == "auth.User"]
    assert kept and "Account profile" in kept[0]["reason"] and "Employment dispute 17" in kept[0]["reason"]


@pytest.mark.django_db
def test_hold_on_support_messages_keeps_the_conversations_they_would_be_deleted_with(
    user_factory, subject_data, verified_request_for, officer
):
    from demo.models import SupportConversation, SupportMessage

    user = user_factory(first_name="Gerolf", last_name="Ankersmit")
    subject_data(user)
    empty = SupportConversation.objects.create(user=user, email=user.email, subject="No messages yet")
    LegalHold.objects.create(dataset="demo.SupportMessage", reason="Consumer court case 9")

    run = _erase(verified_request_for(user, kind="erasure"), officer)

    assert run.state == ErasureRun.State.COMPLETED
    assert SupportMessage.objects.filter(body__contains="Ankersmit").count() == 2  # held messages survive
    assert not SupportConversation.objects.filter(pk=empty.pk).exists()  # nothing held in it: deleted
    kept_conversations = SupportConversation.objects.filter(messages__isnull=False).distinct()
    assert kept_conversations.count() == 2
    # The conversations stay only as the messages' container: their own personal fields are cleared.
    assert set(kept_conversations.values_list("email", "customer_name", "subject")) == {("", "", "")}
    step = _step(run, "demo.SupportConversation")
    assert step.counts == {"delete": 1, "kept_rows": 2, "cleared": 2}
    titles = {k["title"] for k in run.report["kept"] if k.get("hold")}
    assert {"Support messages", "Support conversations"} <= titles


@pytest.mark.django_db
def test_hold_on_the_consent_log_completes_the_erasure_and_keeps_records_and_a_deactivated_account(
    user_factory, subject_data, verified_request_for, officer
):
    from consent.models import ConsentRecord, Property
    from demo.models import BlogComment

    user = user_factory()
    data = subject_data(user)
    record = ConsentRecord.objects.create(
        consent_id=uuid.uuid4(),
        property=Property.objects.create(name="Shop"),
        revision=1,
        choices={"analytics": True},
        method="accept_all",
        user=user,
        ip="10.77.0.0",
    )
    LegalHold.objects.create(dataset="consent.ConsentRecord", reason="Regulator inquiry into the banner")

    run = _erase(verified_request_for(user, kind="erasure"), officer)

    assert run.state == ErasureRun.State.COMPLETED and run.error == ""
    record.refresh_from_db()
    assert record.user_id == user.pk and record.ip == "10.77.0.0"  # held as it was
    account = get_user_model().objects.get(pk=user.pk)
    assert not account.is_active and account.email == ""
    assert not BlogComment.objects.filter(author_email=data["email"]).exists()
    kept = {k["dataset"]: k for k in run.report["kept"] if k.get("hold")}
    assert {"consent.ConsentRecord", "auth.User"} <= set(kept)
    assert "Cookie consent log" in kept["auth.User"]["reason"]


@pytest.mark.django_db
def test_a_delete_that_would_still_reach_held_rows_is_refused_and_nothing_is_lost(
    user_factory, subject_data, verified_request_for, officer, monkeypatch
):
    """The collector's last check: if the relation walk ever misses a path, the step fails instead of deleting."""
    from demo.models import SupportConversation, SupportMessage
    from fulfilment import erasure

    user = user_factory()
    subject_data(user)
    LegalHold.objects.create(dataset="demo.SupportMessage", reason="Held")
    monkeypatch.setattr(erasure, "blocking_paths", lambda model, held_for: [])
    data_request = verified_request_for(user, kind="erasure")
    services.preview_erasure(data_request=data_request)
    services.approve_erasure(data_request=data_request, actor=officer)
    with pytest.raises(erasure.HeldDataReached):
        services.execute_erasure(data_request=data_request)
    assert ErasureRun.objects.get(data_request=data_request).state == ErasureRun.State.FAILED
    assert SupportMessage.objects.count() == 2 and SupportConversation.objects.count() == 2


@pytest.mark.django_db
def test_requesters_read_that_data_is_held_but_never_the_staffs_reason(
    client, user_factory, subject_data, verified_request_for, officer, mailoutbox, django_capture_on_commit_callbacks
):
    from requests_app.models import FilePurpose

    staff_text = "Fraud probe into other.person@example.com"
    user = user_factory()
    subject_data(user)
    LegalHold.objects.create(dataset="demo.TrafficLog", reason=staff_text)
    data_request = verified_request_for(user, kind="erasure")
    services.preview_erasure(data_request=data_request)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_erasure(data_request=data_request, actor=officer)
    run = ErasureRun.objects.get(data_request=data_request)
    assert run.state == ErasureRun.State.COMPLETED

    data_request.refresh_from_db()
    summary = data_request.completion_summary
    assert "Traffic logs: kept under a legal hold (a legal obligation or legal claims)" in summary
    assert "Fraud" not in summary
    report_file = data_request.files.get(purpose=FilePurpose.RESULT, name="erasure-report.json")
    requester_report = json.loads(report_file.file.read())
    assert "Fraud" not in json.dumps(requester_report)
    assert any(k["title"] == "Traffic logs" for k in requester_report["kept"])
    assert mailoutbox and not any("Fraud" in m.body for m in mailoutbox)
    from requests_app.services import make_status_token

    page = client.get(reverse("requests_app:status", kwargs={"token": make_status_token(data_request)}))
    html = page.content.decode()
    assert "kept under a legal hold" in html and "Fraud" not in html
    # Staff keep the full reason: in the run's report and on the erasure page.
    assert any(staff_text in k["reason"] for k in run.report["kept"])
    client.force_login(officer)
    review = client.get(reverse("fulfilment:erasure_review", args=[data_request.pk])).content.decode()
    assert staff_text in review


@pytest.mark.django_db
def test_reports_written_before_holds_were_flagged_hide_the_reason_too():
    from django.utils import translation

    old_report = {
        "totals": {"delete": 3},
        "kept": [
            {
                "dataset": "demo.TrafficLog",
                "title": "Traffic logs",
                "field": "*",
                "reason": "legal hold on the dataset: Case X",
            }
        ],
    }
    with translation.override("en"):
        text = services.erasure_summary(old_report)
    assert "Case X" not in text and "kept under a legal hold" in text
