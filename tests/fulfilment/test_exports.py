"""Access and portability exports: everything of the subject, nothing of anyone else."""

import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from fulfilment import services
from fulfilment.models import DataExport
from registry import site


def _build(data_request) -> DataExport:
    export = services.start_export(data_request=data_request)
    return services.build_export(export=export)


def _zip(export) -> zipfile.ZipFile:
    return zipfile.ZipFile(Path(settings.PRIVATE_ROOT) / export.file_path)


@pytest.mark.smoke
@pytest.mark.django_db
def test_export_zip_holds_json_csv_files_and_report(user_factory, subject_data, verified_request_for):
    user = user_factory(first_name="Ada", last_name="Example")
    data = subject_data(user)
    export = _build(verified_request_for(user))
    assert export.state == DataExport.State.READY
    assert export.rows_done == export.rows_total > 0
    assert export.expires_at > timezone.now() + timedelta(days=settings.EXPORT_LINK_DAYS - 1)
    assert str(settings.PRIVATE_ROOT) not in str(settings.STATIC_ROOT)
    with _zip(export) as zf:
        names = zf.namelist()
        for ds in site.datasets():
            slug = ds.label.replace(".", "_").lower()
            assert f"json/{slug}.json" in names and f"csv/{slug}.csv" in names
        traffic = json.loads(zf.read("json/demo_trafficlog.json"))
        assert len(traffic["rows"]) == 2 and {r["ip_address"] for r in traffic["rows"]} == {data["ip"]}
        assert any(n.startswith("files/demo_uploadedfile/") for n in names)
        uploaded = [n for n in names if n.startswith("files/")][0]
        assert zf.read(uploaded) == f"notes of {data['name']}".encode()
        report = zf.read("report.html").decode()
        account = json.loads(zf.read("json/auth_user.json"))["rows"][0]
        assert "password" not in account
    org_authority = "supervisory authority"
    assert org_authority in report.lower() and "Traffic logs" in report and "Retention" in report


@pytest.mark.django_db
def test_export_holds_the_files_the_subject_attached_to_requests_and_nobody_elses(user_factory, verified_request_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from requests_app.services import submit_request

    user, other = user_factory(), user_factory()
    for person, name in ((user, "my-id-card.pdf"), (other, "their-id-card.pdf")):
        submit_request(
            name="Requester",
            email=person.email,
            kind="objection",
            jurisdiction="gdpr",
            user=person,
            attachment=SimpleUploadedFile(name, f"%PDF-1.4 {name}".encode(), content_type="application/pdf"),
        )
    # An anonymous request sent from the same address counts too.
    submit_request(
        name="Requester",
        email=user.email.upper(),
        kind="restriction",
        jurisdiction="gdpr",
        attachment=SimpleUploadedFile("payslip.pdf", b"%PDF-1.4 payslip", content_type="application/pdf"),
    )
    export = _build(verified_request_for(user))
    with _zip(export) as zf:
        rows = json.loads(zf.read("json/requests_app_requestfile.json"))["rows"]
        assert sorted(r["name"] for r in rows) == ["my-id-card.pdf", "payslip.pdf"]
        assert all(r["purpose"] == "attachment" and "uploaded_by_id" not in r for r in rows)
        files = {Path(n).name.split("-", 1)[1]: zf.read(n) for n in zf.namelist() if n.startswith("files/requests_app")}
    assert files == {"my-id-card.pdf": b"%PDF-1.4 my-id-card.pdf", "payslip.pdf": b"%PDF-1.4 payslip"}


@pytest.mark.django_db
def test_export_report_is_in_the_requesters_language_whatever_the_worker_last_used(
    user_factory, subject_data, verified_request_for
):
    from django.utils import translation

    user = user_factory()
    subject_data(user)
    english = verified_request_for(user)
    with translation.override("de"):
        export = _build(english)
    with _zip(export) as zf:
        assert "supervisory authority" in zf.read("report.html").decode().lower()

    german = verified_request_for(user_factory())
    german.language = "de"
    german.save(update_fields=["language"])
    with translation.override("en"):
        export = _build(german)
    with _zip(export) as zf:
        report = zf.read("report.html").decode()
    assert "Aufsichtsbehörde" in report and "supervisory authority" not in report.lower()


def _make_rows(user, counts):
    from demo import models as m

    for _ in range(counts[0]):
        m.TrafficLog.objects.create(user=user, ip_address="10.1.1.1", path="/", user_agent="x")
    for _ in range(counts[1]):
        m.BlogComment.objects.create(
            user=None, author_name="Someone", author_email=user.email, ip_address=None, post_slug="p", body="b"
        )
    for k in range(counts[2]):
        m.DeviceTelemetry.objects.create(
            user=user, device_model="S1", serial_number=f"S{user.pk}-{k}", software_version="1"
        )


@pytest.mark.django_db
@hsettings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3), st.integers(0, 3)), min_size=2, max_size=4))
def test_export_holds_all_of_the_subjects_rows_and_none_of_anothers(user_factory, verified_request_for, layout):
    from demo.models import BlogComment, DeviceTelemetry, TrafficLog

    users = [user_factory() for _ in layout]
    for user, counts in zip(users, layout, strict=True):
        _make_rows(user, counts)
    subject, others = users[0], users[1:]
    export = _build(verified_request_for(subject))
    with _zip(export) as zf:
        blob = b"".join(zf.read(n) for n in zf.namelist() if not n.endswith(".html"))
        rows = {n: json.loads(zf.read(n))["rows"] for n in zf.namelist() if n.startswith("json/")}
    expect = {
        "json/demo_trafficlog.json": set(TrafficLog.objects.filter(user=subject).values_list("pk", flat=True)),
        "json/demo_devicetelemetry.json": set(
            DeviceTelemetry.objects.filter(user=subject).values_list("pk", flat=True)
        ),
        "json/demo_blogcomment.json": set(
            BlogComment.objects.filter(author_email=subject.email).values_list("pk", flat=True)
        ),
    }
    for name, pks in expect.items():
        assert {r["id"] for r in rows[name]} == pks
    for other in others:
        assert other.email.encode() not in blob


@pytest.mark.django_db
def test_export_starts_automatically_when_an_access_request_is_verified(
    user_factory, subject_data, django_capture_on_commit_callbacks
):
    from requests_app.services import create_verified_request

    user = user_factory()
    subject_data(user)
    with django_capture_on_commit_callbacks(execute=True):
        data_request = create_verified_request(user=user, kind="portability")
    export = DataExport.objects.get(data_request=data_request)
    assert export.state == DataExport.State.READY
    assert data_request.events.filter(verb__in=["export_started", "export_ready"]).exists()


@pytest.mark.django_db
def test_purge_deletes_expired_exports_only(user_factory, verified_request_for):
    from django.core.management import call_command

    fresh = _build(verified_request_for(user_factory()))
    old = _build(verified_request_for(user_factory()))
    DataExport.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    call_command("purge_expired_exports")
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (
        old.state == DataExport.State.EXPIRED and not (Path(settings.PRIVATE_ROOT) / f"exports/{old.pk}.zip").exists()
    )
    assert fresh.state == DataExport.State.READY and (Path(settings.PRIVATE_ROOT) / fresh.file_path).exists()


@pytest.mark.django_db
def test_failed_export_is_recorded_and_the_privacy_team_told_then_restarts(
    user_factory, subject_data, verified_request_for, officer, mailoutbox, django_capture_on_commit_callbacks
):
    from unittest import mock

    user = user_factory()
    subject_data(user)
    data_request = verified_request_for(user, kind="access")
    export = services.start_export(data_request=data_request)
    with (
        mock.patch("fulfilment.exports._write_dataset", side_effect=OSError("disk full")),
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(OSError),
    ):
        services.build_export(export=export)
    export.refresh_from_db()
    assert export.state == "failed" and not list((Path(settings.PRIVATE_ROOT)).rglob(f"{export.pk}.*"))
    assert data_request.events.filter(verb="export_failed", note__contains="disk full").exists()
    assert [m.to for m in mailoutbox] == [[officer.email]]
    assert data_request.reference in mailoutbox[0].subject and "/export/" in mailoutbox[0].body
    again = services.start_export(data_request=data_request)
    assert again.pk != export.pk
    assert services.build_export(export=again).state == "ready"


@pytest.mark.django_db
def test_export_csv_neutralises_formulas_and_json_keeps_the_value(user_factory, verified_request_for):
    import csv
    import io

    user = user_factory(first_name='=HYPERLINK("https://attacker.example.com")', last_name="-2+3")
    export = _build(verified_request_for(user))
    with _zip(export) as zf:
        rows = list(csv.reader(io.StringIO(zf.read("csv/auth_user.csv").decode(), newline="")))
        account = json.loads(zf.read("json/auth_user.json"))["rows"][0]
    header, row = rows
    assert row[header.index("first_name")] == '\'=HYPERLINK("https://attacker.example.com")'
    assert row[header.index("last_name")] == "'-2+3"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)
    # The machine-readable copy keeps the exact value.
    assert account["last_name"] == "-2+3"


@pytest.mark.django_db
def test_an_export_whose_worker_died_is_started_again_and_a_live_one_is_kept(
    user_factory, subject_data, verified_request_for
):
    user = user_factory()
    subject_data(user)
    data_request = verified_request_for(user)
    first = services.start_export(data_request=data_request)
    # Still within the task's time limit: the running build is left alone.
    DataExport.objects.filter(pk=first.pk).update(
        state=DataExport.State.RUNNING, started_at=timezone.now() - timedelta(minutes=5)
    )
    assert services.start_export(data_request=data_request).pk == first.pk
    # Past the hard time limit no worker is building it any more (killed, out of memory): a new export starts.
    DataExport.objects.filter(pk=first.pk).update(started_at=timezone.now() - timedelta(hours=2))
    second = services.start_export(data_request=data_request)
    assert second.pk != first.pk and second.state == DataExport.State.PENDING
    first.refresh_from_db()
    assert first.state == DataExport.State.FAILED and "stopped without finishing" in first.error
    assert services.build_export(export=second).state == DataExport.State.READY
    # A ready export whose link has expired is not handed out again either.
    DataExport.objects.filter(pk=second.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    third = services.start_export(data_request=data_request)
    assert third.pk != second.pk
    second.refresh_from_db()
    assert second.state == DataExport.State.EXPIRED and not second.file_path


@pytest.mark.django_db
def test_export_of_a_logged_in_user_holds_no_session_key_nor_password_hash(user_factory, verified_request_for):
    """A session key in an export is the session cookie: sent back, it opened the victim's account."""
    from allauth.usersessions.models import UserSession
    from django.contrib.sessions.models import Session
    from django.test import Client

    user = user_factory()
    user.set_password("Export-secret-2026")
    user.save()
    for agent in ("Firefox", "Chromium"):
        browser = Client(HTTP_USER_AGENT=agent)
        browser.force_login(user)
        assert browser.get("/account/").status_code == 200  # the sessions middleware records the login
    session_keys = set(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    session_keys |= set(Session.objects.values_list("session_key", flat=True))
    assert len(session_keys) >= 2
    digest = user.password.rsplit("$", 1)[-1]
    export = _build(verified_request_for(user))
    with _zip(export) as zf:
        blobs = {name: zf.read(name) for name in zf.namelist()}
        sessions = json.loads(blobs["json/usersessions_usersession.json"])
    leaks = [
        (name, secret)
        for name, data in blobs.items()
        for secret in [*session_keys, user.password, digest]
        if secret.encode() in data
    ]
    assert leaks == []
    # The requester still sees their sessions, and is told the key was withheld.
    assert {row["user_agent"] for row in sessions["rows"]} == {"Firefox", "Chromium"}
    assert sessions["withheld"] == ["session_key"] and "session_key" not in sessions["fields"]
