"""Erasure: preview, approval, no trace left, holds honoured, resumable after a crash."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

from fulfilment import services
from fulfilment.models import ErasureRun, ErasureStep
from registry import site
from registry.models import LegalHold


def _looks_like_ip(value: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _scan(needles: list[str]) -> list[str]:
    """Every registered field of every dataset that still holds one of ``needles``."""
    found = []
    for ds in site.datasets():
        model = ds.model
        for pf in ds.fields:
            field = model._meta.get_field(pf.name)
            if field.is_relation or not isinstance(
                field, models.CharField | models.TextField | models.GenericIPAddressField | models.FileField
            ):
                continue
            for needle in needles:
                is_ip_field = isinstance(field, models.GenericIPAddressField)
                if is_ip_field and not _looks_like_ip(needle):
                    continue
                lookup = "exact" if is_ip_field else "icontains"
                if model._default_manager.filter(**{f"{pf.name}__{lookup}": needle}).exists():
                    found.append(f"{ds.label}.{pf.name} holds {needle}")
    return found


def _erase(data_request, officer, **kwargs):
    services.preview_erasure(data_request=data_request)
    services.approve_erasure(data_request=data_request, actor=officer)
    return services.execute_erasure(data_request=data_request, **kwargs)


@pytest.mark.smoke
@pytest.mark.django_db
def test_erasure_leaves_no_trace_of_email_name_or_ip(user_factory, subject_data, verified_request_for, officer):
    from consent.models import ConsentRecord, Property

    user = user_factory(first_name="Zelda", last_name="Quarrington")
    keep = user_factory(first_name="Other", last_name="Person")
    data = subject_data(user)
    other = subject_data(keep)
    prop = Property.objects.create(name="Site")
    ConsentRecord.objects.create(
        consent_id="6f1c2b1e-1111-4222-8333-444455556666",
        property=prop,
        revision=1,
        choices={"a": True},
        method="accept_all",
        user=user,
        ip="10.77.0.0",
    )
    # An earlier request of the same person is pseudonymised too, and its export removed.
    access = verified_request_for(user, kind="access")
    export = services.build_export(export=services.start_export(data_request=access))
    data_request = verified_request_for(user, kind="erasure")
    run = _erase(data_request, officer)
    services.seal_erasure(run=run)

    assert run.state == ErasureRun.State.COMPLETED
    assert _scan([data["email"], data["name"], data["ip"], "Quarrington"]) == []
    assert not get_user_model().objects.filter(pk=user.pk).exists()  # the account went last
    assert not default_storage.exists(data["file"])
    export.refresh_from_db()
    assert export.state == "expired" and not export.file_path
    # Proof of consent is kept, unlinked and pseudonymised.
    record = ConsentRecord.objects.get()
    assert record.user_id is None and str(record.consent_id) != "6f1c2b1e-1111-4222-8333-444455556666"
    # Invoices stay for the tax authority, without the link to the person.
    from demo.models import Invoice

    assert Invoice.objects.filter(billing_company=f"Company {data['ip'].split('.')[-1]}").count() in (0, 2)
    assert Invoice.objects.filter(user__isnull=True).count() == 2
    # Nobody else's data was touched.
    assert _scan([other["email"], other["ip"]])
    report = run.report
    assert report["totals"]["delete"] > 0 and report["totals"]["pseudonymise"] >= 1
    assert any("tax law" in k["reason"] for k in report["kept"])
    data_request.refresh_from_db()
    assert data_request.status == "completed"
    assert data_request.files.filter(name="erasure-report.json").exists()


@pytest.mark.django_db
def test_preview_lists_deletions_changes_and_kept_items_without_changing_anything(
    user_factory, subject_data, verified_request_for
):
    from demo.models import TrafficLog

    user = user_factory()
    subject_data(user)
    run = services.preview_erasure(data_request=verified_request_for(user, kind="erasure"))
    plans = {p["dataset"]: p for p in run.preview["datasets"]}
    assert plans["demo.TrafficLog"]["delete_rows"] == 2
    assert plans["demo.Order"]["fields"]["mask"] == ["billing_name", "billing_address"]
    assert {k["field"] for k in plans["demo.Invoice"]["kept"]} == {"billing_company", "billing_address", "vat_number"}
    assert TrafficLog.objects.filter(user=user).count() == 2


@pytest.mark.django_db
def test_only_a_privacy_officer_approves_and_nothing_runs_before(user_factory, staff_user, verified_request_for):
    agent = user_factory(is_staff=True)
    data_request = verified_request_for(user_factory(), kind="erasure")
    services.preview_erasure(data_request=data_request)
    with pytest.raises(PermissionDenied):
        services.approve_erasure(data_request=data_request, actor=agent)
    with pytest.raises(ValidationError):
        services.execute_erasure(data_request=data_request)
    assert services.approve_erasure(data_request=data_request, actor=staff_user).state == "approved"


@pytest.mark.django_db
def test_dataset_hold_keeps_that_dataset_and_says_so(user_factory, subject_data, verified_request_for, officer):
    from demo.models import Profile, TrafficLog

    user = user_factory()
    subject_data(user)
    LegalHold.objects.create(
        dataset="demo.TrafficLog", reason="Fraud investigation 42", ends_at=timezone.now() + timedelta(days=30)
    )
    LegalHold.objects.create(
        dataset="demo.DeviceTelemetry", reason="expired hold", ends_at=timezone.now() - timedelta(days=1)
    )
    run = _erase(verified_request_for(user, kind="erasure"), officer)
    assert TrafficLog.objects.filter(ip_address__startswith="10.77.").count() == 2
    assert not Profile.objects.filter(user_id=user.pk).exists()
    kept = [k for k in run.report["kept"] if k["dataset"] == "demo.TrafficLog"]
    assert kept and "Fraud investigation 42" in kept[0]["reason"]
    assert not any(k["dataset"] == "demo.DeviceTelemetry" for k in run.report["kept"])


@pytest.mark.django_db
def test_subject_hold_keeps_everything(user_factory, subject_data, verified_request_for, officer):
    from demo.models import BlogComment

    user = user_factory()
    subject_data(user)
    LegalHold.objects.create(email=user.email.upper(), reason="Litigation")
    run = _erase(verified_request_for(user, kind="erasure"), officer)
    assert get_user_model().objects.filter(pk=user.pk).exists()
    assert BlogComment.objects.filter(author_email=user.email).count() == 2
    assert all(s.state != ErasureStep.State.DONE or not s.counts.get("delete") for s in run.steps.all())
    assert any("Litigation" in k["reason"] for k in run.report["kept"])


@pytest.mark.django_db
def test_crash_in_the_middle_then_rerun_completes(user_factory, subject_data, verified_request_for, officer):
    from demo.models import BlogComment, TrafficLog

    user = user_factory()
    data = subject_data(user)
    data_request = verified_request_for(user, kind="erasure")
    services.preview_erasure(data_request=data_request)
    services.approve_erasure(data_request=data_request, actor=officer)

    def crash_on_traffic(step):
        if step.dataset == "demo.TrafficLog":
            raise RuntimeError("worker lost")

    with pytest.raises(RuntimeError):
        services.execute_erasure(data_request=data_request, on_step=crash_on_traffic)
    run = ErasureRun.objects.get(data_request=data_request)
    assert run.state == ErasureRun.State.FAILED
    done_before = set(run.steps.filter(state="done").values_list("dataset", flat=True))
    assert "demo.BlogComment" in done_before and "demo.TrafficLog" not in done_before
    assert not BlogComment.objects.filter(author_email=user.email).exists()
    assert TrafficLog.objects.filter(user=user).count() == 2  # the crashed step rolled back
    assert get_user_model().objects.filter(pk=user.pk).exists()

    with pytest.raises(PermissionDenied):
        services.resume_erasure(data_request=data_request, actor=user_factory(is_staff=True))
    services.resume_erasure(data_request=data_request, actor=officer)  # eager: runs once committed
    assert data_request.events.filter(note__contains="resumed", old="failed").exists()
    run = services.execute_erasure(data_request=data_request)
    assert run.state == ErasureRun.State.COMPLETED and run.attempts == 2
    assert not run.steps.exclude(state="done").exists()
    services.seal_erasure(run=run)
    assert _scan([data["email"], data["ip"]]) == []
    # Idempotent: running again changes nothing.
    assert services.execute_erasure(data_request=data_request).report == run.report


@pytest.mark.django_db
def test_self_service_approval_by_account_holder_is_audited_without_their_username(
    user_factory, subject_data, verified_request_for, django_capture_on_commit_callbacks
):
    user = user_factory(first_name="Imke", last_name="Vandersloot")
    data = subject_data(user)
    data_request = verified_request_for(user, kind="erasure")
    services.preview_erasure(data_request=data_request)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.approve_erasure(data_request=data_request, actor=user, self_service=True)
    run.refresh_from_db()
    assert run.state == "completed"  # queued after commit, eager in tests
    event = data_request.events.filter(new="approved (self-service)").get()
    assert event.actor_label == "account holder"
    assert "self-service" in event.note
    assert not get_user_model().objects.filter(pk=user.pk).exists()
    assert _scan([data["email"], data["name"], data["ip"]]) == []


@pytest.mark.django_db
def test_self_service_approval_refused_for_someone_elses_or_staff_opened_request(
    user_factory, verified_request_for, officer
):
    from requests_app.services import create_verified_request

    holder = user_factory()
    other = user_factory()
    data_request = verified_request_for(holder, kind="erasure")
    services.preview_erasure(data_request=data_request)
    with pytest.raises(PermissionDenied):
        services.approve_erasure(data_request=data_request, actor=other, self_service=True)
    # Opened on behalf of the holder by staff through another channel: not a self-service deletion.
    on_behalf = create_verified_request(user=other, kind="erasure", actor=officer)
    on_behalf.__class__.objects.filter(pk=on_behalf.pk).update(channel="email")
    on_behalf.refresh_from_db()
    services.preview_erasure(data_request=on_behalf)
    with pytest.raises(PermissionDenied):
        services.approve_erasure(data_request=on_behalf, actor=other, self_service=True)
    access = verified_request_for(holder, kind="access")
    with pytest.raises(ValidationError):
        services.approve_erasure(data_request=access, actor=holder, self_service=True)
    # Without self_service, the holder is no privacy officer.
    with pytest.raises(PermissionDenied):
        services.approve_erasure(data_request=data_request, actor=holder)
    assert ErasureRun.objects.get(data_request=data_request).state == "previewed"


@pytest.mark.django_db
def test_self_service_approval_with_queue_false_leaves_execution_to_the_caller(
    user_factory, verified_request_for, django_capture_on_commit_callbacks
):
    user = user_factory()
    data_request = verified_request_for(user, kind="erasure")
    services.preview_erasure(data_request=data_request)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_erasure(data_request=data_request, actor=user, self_service=True, queue=False)
    assert ErasureRun.objects.get(data_request=data_request).state == "approved"
    assert services.execute_erasure(data_request=data_request).state == "completed"


def _completed_erasure_with_mail_pending(user, verified_request_for, officer, capture):
    """Finish an erasure while the worker has not sent the completion mail yet; returns the queued calls."""
    from unittest import mock

    from fulfilment import tasks as registry_tasks
    from requests_app import tasks as request_tasks

    data_request = verified_request_for(user, kind="erasure")
    services.preview_erasure(data_request=data_request)
    services.approve_erasure(data_request=data_request, actor=officer)
    with (
        mock.patch.object(request_tasks.send_request_mail_task, "delay") as mail_delay,
        mock.patch.object(registry_tasks.seal_erasure_task, "apply_async") as seal_later,
        capture(execute=True),
    ):
        services.execute_erasure(data_request=data_request)
    return data_request, mail_delay, seal_later


@pytest.mark.django_db
def test_completion_mail_retried_after_a_long_smtp_outage_still_reaches_the_requester(
    user_factory, verified_request_for, officer, mailoutbox, django_capture_on_commit_callbacks
):
    from requests_app.tasks import send_request_mail_task

    user = user_factory(first_name="Ottilie", last_name="Brandsma", email="ottilie.brandsma@example.com")
    data_request, mail_delay, seal_later = _completed_erasure_with_mail_pending(
        user, verified_request_for, officer, django_capture_on_commit_callbacks
    )
    mail_delay.assert_called_once_with(data_request.pk, "completed", {})
    # The fallback seal waits longer than the mail task's whole retry window (8 retries, backoff capped at 600 s).
    retry_window = sum(min(30 * 2**i, 600) for i in range(send_request_mail_task.max_retries))
    assert seal_later.call_args.kwargs["countdown"] > retry_window
    data_request.refresh_from_db()
    assert data_request.requester_email == "ottilie.brandsma@example.com"  # not sealed while the mail waits

    # The SMTP server is back much later; the retried mail goes to the real address, then the request is sealed.
    send_request_mail_task.apply(args=(data_request.pk, "completed", {}))
    assert [m.to for m in mailoutbox] == [["ottilie.brandsma@example.com"]]
    data_request.refresh_from_db()
    assert data_request.requester_email.endswith("@erased.invalid")
    assert "Brandsma" not in data_request.requester_name
    run = ErasureRun.objects.get(data_request=data_request)
    assert run.sealed_at is not None and "ottilie.brandsma@example.com" not in run.subject_emails
    # The fallback finds it sealed already and leaves it alone.
    from fulfilment.tasks import seal_erasure_task

    assert seal_erasure_task.apply(args=(run.pk,)).get() is False


@pytest.mark.django_db
def test_completion_mail_that_finally_fails_or_never_reports_is_sealed_anyway(
    user_factory, verified_request_for, officer, django_capture_on_commit_callbacks
):
    from unittest import mock

    from fulfilment.tasks import seal_erasure_task
    from requests_app.tasks import send_request_mail_task

    first = user_factory(email="first.subject@example.com")
    data_request, _mail, _seal = _completed_erasure_with_mail_pending(
        first, verified_request_for, officer, django_capture_on_commit_callbacks
    )
    with mock.patch("requests_app.mails.send_templated_mail", side_effect=OSError("connection refused")):
        # The last allowed attempt: no retry is left, so the task fails for good.
        result = send_request_mail_task.apply(
            args=(data_request.pk, "completed", {}), retries=send_request_mail_task.max_retries, throw=False
        )
    assert result.failed()
    data_request.refresh_from_db()
    assert data_request.requester_email.endswith("@erased.invalid")

    # No report at all (worker lost): the delayed fallback seals.
    second = user_factory(email="second.subject@example.com")
    other_request, _mail, seal_later = _completed_erasure_with_mail_pending(
        second, verified_request_for, officer, django_capture_on_commit_callbacks
    )
    assert seal_erasure_task.apply(args=seal_later.call_args.args[0]).get() is True
    other_request.refresh_from_db()
    assert other_request.requester_email.endswith("@erased.invalid")


@pytest.mark.django_db
def test_denied_or_withdrawn_erasure_request_is_neither_previewed_nor_approved(
    user_factory, verified_request_for, officer
):
    from requests_app.services import withdraw_request

    data_request = verified_request_for(user_factory(), kind="erasure")
    services.preview_erasure(data_request=data_request)
    withdraw_request(data_request=data_request, actor="requester")
    with pytest.raises(ValidationError):
        services.approve_erasure(data_request=data_request, actor=officer)
    with pytest.raises(ValidationError):
        services.preview_erasure(data_request=data_request)
    assert ErasureRun.objects.get(data_request=data_request).state == "previewed"


def _scan_whole_database(needles: list[str]) -> list[str]:
    """Every text-like column of every table that still holds one of ``needles``."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        if model._meta.managed is False or model._meta.proxy:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.GenericIPAddressField):
                lookups = [("exact", n) for n in needles if _looks_like_ip(n)]
            elif isinstance(field, models.CharField | models.TextField | models.JSONField):
                lookups = [("icontains", n) for n in needles]
            else:
                continue
            for lookup, needle in lookups:
                if model._default_manager.filter(**{f"{field.name}__{lookup}": needle}).exists():
                    found.append(f"{model._meta.label}.{field.name} holds {needle}")
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("consent_log_held", [False, True], ids=["account-deleted", "account-kept-for-a-hold"])
def test_after_erasure_no_table_anywhere_holds_the_subjects_email_name_or_ip(
    consent_log_held,
    client,
    user_factory,
    subject_data,
    verified_request_for,
    officer,
    staff_user,
    django_capture_on_commit_callbacks,
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from consent.models import ConsentRecord, Property
    from requests_app.models import RequestFile
    from requests_app.services import create_verified_request, submit_request

    # The username allauth derives from the e-mail address: its local part.
    user = user_factory(
        username="w.oosterhuizen", first_name="Wilhelmina", last_name="Oosterhuizen", email="w.oosterhuizen@example.com"
    )
    data = subject_data(user)
    client.force_login(user)  # a session row and login traces
    record = ConsentRecord.objects.create(
        consent_id="6f1c2b1e-2222-4222-8333-444455556666",
        property=Property.objects.create(name="Shop"),
        revision=1,
        choices={"a": True},
        method="accept_all",
        user=user,
        ip=data["ip"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        access = verified_request_for(user, kind="access")
    # The subject downloaded the export, sent a proof of identity, and had their name corrected once.
    services.record_download(export=access.exports.get(), user=user, via="session")
    with django_capture_on_commit_callbacks(execute=True):
        submit_request(
            name="Wilhelmina Oosterhuizen",
            email=user.email,
            kind="restriction",
            jurisdiction="gdpr",
            user=user,
            attachment=SimpleUploadedFile(
                "id-card-oosterhuizen.pdf", b"%PDF-1.4 id card", content_type="application/pdf"
            ),
        )
    attachment = RequestFile.objects.get(purpose="attachment")
    rectification = verified_request_for(user, kind="rectification")
    services.rectify_field(
        data_request=rectification,
        actor=staff_user,
        dataset="auth.User",
        pk=user.pk,
        field="last_name",
        value="Oosterhuizen-Bakker",
    )
    needles = [data["email"], "Oosterhuizen", data["ip"]]
    before = _scan_whole_database(needles)
    assert {"demo.TrafficLog.ip_address holds " + data["ip"], "auth.User.last_name holds Oosterhuizen"} <= set(before)
    assert any(hit.startswith("requests_app.DataRequest.requester_email") for hit in before)
    assert {
        "audit.AuditEvent.actor_label holds Oosterhuizen",
        "audit.AuditEvent.old holds Oosterhuizen",
        "requests_app.RequestFile.name holds Oosterhuizen",
    } <= set(before)
    if consent_log_held:
        LegalHold.objects.create(dataset="consent.ConsentRecord", reason="Regulator inquiry")
    with django_capture_on_commit_callbacks(execute=True):
        data_request = create_verified_request(
            user=user, kind="erasure", details="I am Wilhelmina Oosterhuizen, w.oosterhuizen@example.com."
        )
        services.preview_erasure(data_request=data_request)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_erasure(data_request=data_request, actor=officer)
    assert ErasureRun.objects.get(data_request=data_request).sealed_at is not None
    assert access.exports.exists()
    assert not default_storage.exists(attachment.file.name)
    if consent_log_held:
        # The held consent record stays as it was, IP included; the account row it points to stays, emptied.
        record.refresh_from_db()
        assert record.user_id == user.pk and record.ip == data["ip"]
        assert not get_user_model().objects.get(pk=user.pk).is_active
        needles.remove(data["ip"])
    else:
        assert not get_user_model().objects.filter(pk=user.pk).exists()
    assert _scan_whole_database(needles) == []
