"""The propagation ledger and the connected systems' tasks are personal data: they are in the person's access
export, and erasure unlinks the ledger from the person while keeping what proves the recipients were told."""

import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from fulfilment import services
from fulfilment.models import Propagation, SystemTask
from registry import site

pytestmark = pytest.mark.django_db


def _told(user, **fields) -> Propagation:
    return Propagation.objects.create(
        event="consent_withdrawn",
        rule="GDPR Art. 7(3): without undue delay (30 days)",
        recipient_key="vendor-1",
        recipient_name="Example Mailer",
        due_at=timezone.now() + timedelta(days=30),
        **fields,
    )


def test_the_ledger_and_tasks_are_declared_with_their_links_kept_secret():
    for label in ("fulfilment.Propagation", "fulfilment.SystemTask"):
        ds = site.get(label)
        assert {"token_hash", "token_expires_at"} <= ds.secret_names
        assert "token_hash" not in ds.export_field_names()
    assert "result" not in site.get("fulfilment.SystemTask").export_field_names()


def test_the_recipients_told_are_in_the_access_export(user_factory, verified_request_for):
    ann, bob = user_factory(email="ann@example.com"), user_factory(email="bob@example.com")
    _told(ann, user_id=ann.pk, subject_email="ann@example.com", purpose="marketing")
    _told(bob, user_id=bob.pk, subject_email="bob@example.com")  # someone else's, never in Ann's export
    access = verified_request_for(ann, kind="access")
    SystemTask.objects.create(
        data_request=access,
        system_key="archive",
        system_name="Paper archive",
        kind="manual",
        action="access",
        state="done",  # answered: the export does not wait on it
    )
    export = services.build_export(export=services.start_export(data_request=access))
    with zipfile.ZipFile(Path(settings.PRIVATE_ROOT) / export.file_path) as zf:
        told = json.loads(zf.read("json/fulfilment_propagation.json"))["rows"]
        tasks = json.loads(zf.read("json/fulfilment_systemtask.json"))["rows"]
        report = zf.read("report.html").decode()
    assert [(r["recipient_name"], r["purpose"], r["user_id"]) for r in told] == [
        ("Example Mailer", "marketing", ann.pk)
    ]
    assert [t["system_name"] for t in tasks] == ["Paper archive"] and "token_hash" not in tasks[0]
    assert "Recipients told of your choices" in report


def test_erasure_unlinks_the_ledger_and_keeps_the_proof(user_factory, verified_request_for, officer):
    ann = user_factory(email="ann@example.com")
    row = _told(ann, user_id=ann.pk, subject_email="ann@example.com", purpose="marketing")
    data_request = verified_request_for(ann, kind="erasure")
    services.preview_erasure(data_request=data_request)
    services.approve_erasure(data_request=data_request, actor=officer)
    run = services.execute_erasure(data_request=data_request)
    assert run.state == "completed"
    row.refresh_from_db()
    assert row.user_id is None and "ann@example.com" not in row.subject_email and row.subject_email
    assert (row.event, row.purpose, row.recipient_name) == ("consent_withdrawn", "marketing", "Example Mailer")


def test_a_completed_erasure_reaches_the_vendors_receiving_the_kinds_of_data_it_found(
    user_factory, subject_data, verified_request_for, officer, mailoutbox, django_capture_on_commit_callbacks
):
    from consent.models import Vendor
    from consent.services import save_configuration

    for name, categories in (("Example Mailer", ["user.contact.email"]), ("Survey Co", ["user.demographic.gender"])):
        save_configuration(
            obj=Vendor(
                name=name,
                purpose="x",
                country="Ireland",
                propagation_method="email",
                privacy_email=f"privacy@{name.split()[0].lower()}.example.com",
                data_categories=categories,
            ),
            actor=None,
        )
    ann = user_factory(email="ann@example.com")
    subject_data(ann)
    data_request = verified_request_for(ann, kind="erasure")
    with django_capture_on_commit_callbacks(execute=True):
        services.preview_erasure(data_request=data_request)
        services.approve_erasure(data_request=data_request, actor=officer)
        services.execute_erasure(data_request=data_request)
    [row] = data_request.propagations.filter(vendor__isnull=False)
    assert (row.recipient_name, row.event, row.state) == ("Example Mailer", "erasure", "sent")
    [mail] = [m for m in mailoutbox if m.to == ["privacy@example.example.com"]]
    assert "erased" in mail.subject and "ann@example.com" in mail.body
    assert not [m for m in mailoutbox if m.to == ["privacy@survey.example.com"]]
