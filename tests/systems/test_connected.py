"""HTTP and manual systems answer a person's request: signed calls to a real receiver (answered at once, or by a
signed callback), retries, and the fallback to a task for the system's owner, answered through the mailed link."""

import io
import json
import re
import time
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from fulfilment import connected
from fulfilment.models import DataExport, TaskState
from requests_app.services import create_verified_request
from systems import webhooks
from systems.services import load_systems
from tests.systems.conftest import KEY

# The ``receiver`` fixture (tests/systems/conftest.py) runs the README's reference receiver on a free port.


def declare(port: int, *, manual: bool = True) -> None:
    text = f"""\
systems:
  - key: helpdesk
    name: Help desk
    kind: http
    owner: {{name: Support team, email: helpdesk@example.com}}
    url: http://127.0.0.1:{port}
    secret_env: HELPDESK_WEBHOOK_SECRET
    timeout: 5
    actions: [access, erasure]
"""
    if manual:
        text += """\
  - key: paper_archive
    name: Paper archive
    kind: manual
    owner: {name: Archive desk, email: archive@example.com}
    actions: [access]
"""
    load_systems(text=text)


def _zip(export: DataExport) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO((Path(settings.PRIVATE_ROOT) / export.file_path).read_bytes()))


def _owner_link(mailoutbox) -> str:
    [mail] = [m for m in mailoutbox if m.to == ["archive@example.com"]]
    return re.search(r"https?://\S+/privacy/data/systems/tasks/\S+/", mail.body).group(0)


@pytest.mark.django_db
def test_both_systems_answer_into_the_export_and_the_request_completes(
    receiver, user_factory, client, mailoutbox, django_capture_on_commit_callbacks
):
    receiver["answers"]["access"] = {"status": "done", "data": {"Help desk tickets": [{"subject": "Printer on fire"}]}}
    declare(receiver["port"])
    holder = user_factory(email="ann@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        data_request = create_verified_request(user=holder, kind="access")
    [(action, signed, raw)] = receiver["calls"]
    body = json.loads(raw)
    assert action == "access" and signed
    assert body["identity"] == {"email": "ann@example.com", "user_id": holder.pk}
    assert body["reference"] == data_request.reference and body["callback_url"].startswith(settings.SITE_URL)
    export = DataExport.objects.get(data_request=data_request)
    assert export.state == DataExport.State.PENDING and export.error == "Waiting on Paper archive"

    link = _owner_link(mailoutbox).replace(settings.SITE_URL, "")
    page = client.get(link)
    assert page.status_code == 200 and "ann@example.com" in page.content.decode()
    upload = SimpleUploadedFile("archive-search.csv", b"box,finding\n17,ARCHIVE-1\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(link, {"answer": "files", "files": upload}).status_code == 200
    assert client.get(link).status_code == 404  # the link is spent once answered

    export.refresh_from_db()
    assert export.state == DataExport.State.READY, export.error
    blob = b"".join(_zip(export).read(n) for n in _zip(export).namelist())
    assert b"Printer on fire" in blob and b"ARCHIVE-1" in blob
    assert "files/paper_archive/archive-search.csv" in _zip(export).namelist()
    data_request.refresh_from_db()
    assert data_request.status == "completed"
    assert {t.system_name: t.state for t in data_request.system_tasks.all()} == {
        "Help desk": TaskState.DONE,
        "Paper archive": TaskState.DONE,
    }


@pytest.mark.django_db
def test_callbacks_are_refused_when_unsigned_stale_or_replayed(receiver, user_factory, client, monkeypatch):
    receiver["answers"]["access"] = {"async": True, "status": "done", "data": {"Help desk tickets": []}}
    declare(receiver["port"], manual=False)
    data_request = create_verified_request(user=user_factory(), kind="access")
    [task] = connected.open_system_tasks(data_request=data_request)
    monkeypatch.setattr(connected, "_queue_send", lambda task_id: None)
    url = f"/privacy/data/systems/callback/{task.idempotency_key}/"
    answer = json.dumps({"status": "done", "data": {"Help desk tickets": [{"subject": "late"}]}}).encode()

    def post(signature):
        return client.post(
            url, answer, content_type="application/json", headers={"Privacy-Portal-Signature": signature}
        )

    assert post("t=1,v1=00").status_code == 403
    assert post(webhooks.sign(b"another key", answer)).status_code == 403
    assert post(webhooks.sign(KEY.encode(), answer, at=int(time.time()) - 600)).status_code == 403  # stale
    good = webhooks.sign(KEY.encode(), answer)
    assert post(good).status_code == 200
    task.refresh_from_db()
    assert task.state == TaskState.DONE and task.result["data"]["Help desk tickets"] == [{"subject": "late"}]
    assert post(good).status_code == 403  # a replay of the same callback


@pytest.mark.django_db
def test_a_system_that_keeps_failing_becomes_a_task_for_its_owner(
    receiver, user_factory, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.SYSTEM_TASK_HTTP_RETRIES = 2
    receiver["answers"]["access"] = {"http_status": 503}
    declare(receiver["port"], manual=False)
    data_request = create_verified_request(user=user_factory(), kind="access")
    [task] = connected.open_system_tasks(data_request=data_request)
    from celery.exceptions import Retry

    from fulfilment.tasks import send_system_task_task

    for attempt in range(2):  # the worker's retries, as Celery counts them: each one waits and tries again
        with pytest.raises(Retry):
            send_system_task_task.apply(args=[task.pk], retries=attempt, throw=True)
        task.refresh_from_db()
        assert (task.state, task.error) == (TaskState.SENT, "Waiting on Help desk: service unavailable")
    with django_capture_on_commit_callbacks(execute=True):  # the last: it goes to the owner
        send_system_task_task.apply(args=[task.pk], retries=2, throw=True)
    task.refresh_from_db()
    assert len(receiver["calls"]) == 3  # the first try and two retries
    assert (task.kind, task.state) == ("manual", TaskState.SENT)
    assert any(m.to == ["helpdesk@example.com"] for m in mailoutbox)
    assert task.data_request.events.filter(verb="task_to_owner").exists()


@pytest.mark.django_db
def test_the_owners_page_refuses_bad_files_and_foreign_links(
    receiver, user_factory, client, mailoutbox, settings, django_capture_on_commit_callbacks
):
    declare(receiver["port"])
    data_request = create_verified_request(user=user_factory(), kind="access")
    tasks = {t.system_key: t for t in connected.open_system_tasks(data_request=data_request)}
    with django_capture_on_commit_callbacks(execute=True):
        connected.send_system_task(task=tasks["paper_archive"])
    link = _owner_link(mailoutbox).replace(settings.SITE_URL, "")
    exe = SimpleUploadedFile("tool.exe", b"MZ", content_type="application/octet-stream")
    assert client.post(link, {"answer": "files", "files": exe}).status_code == 400
    settings.SYSTEM_TASK_MAX_UPLOAD_BYTES = 10
    big = SimpleUploadedFile("big.csv", b"a,b\n" * 10, content_type="text/csv")
    assert client.post(link, {"answer": "files", "files": big}).status_code == 400
    assert client.post(link, {"answer": "cannot", "reason": ""}).status_code == 400
    assert client.get(link[:-6] + "xxxxx/").status_code == 404  # someone else's (or a made-up) link
    tasks["paper_archive"].refresh_from_db()
    assert tasks["paper_archive"].state == TaskState.SENT  # nothing was lost or half-applied
    assert client.post(link, {"answer": "cannot", "reason": "The archive burnt down."}).status_code == 200
    tasks["paper_archive"].refresh_from_db()
    assert tasks["paper_archive"].state == TaskState.FAILED
