"""What HTTP and manual systems answer reaches staff and the requester: data under a title the system does not
declare is exported and staff are told to declare it; an erasure's report counts each system's deletions."""

import json

import pytest
from django.contrib.auth.models import Group

from audit.models import AuditEvent
from fulfilment import connected
from fulfilment.models import DataExport, ErasureRun, TaskState
from fulfilment.services import approve_erasure, execute_erasure
from requests_app.services import create_verified_request
from systems.models import ExternalSystem
from systems.services import load_systems
from tests.systems.test_connected import _zip

pytestmark = pytest.mark.django_db


def _declare(port: int) -> None:
    load_systems(
        text=f"""\
systems:
  - key: helpdesk
    name: Help desk
    kind: http
    owner: {{name: Support team, email: helpdesk@example.com}}
    url: http://127.0.0.1:{port}
    secret_env: HELPDESK_WEBHOOK_SECRET
    timeout: 5
    actions: [access, erasure]
    datasets:
      - table: tickets
        title: Help desk tickets
        identity: {{email: email}}
        fields:
          - {{name: subject, category: user.content.private, purpose: customer support, legal_basis: contract, erase: delete}}
  - key: paper_archive
    name: Paper archive
    kind: manual
    owner: {{name: Archive desk, email: archive@example.com}}
    actions: [erasure]
"""
    )


@pytest.fixture
def officer(user_factory):
    user = user_factory(is_staff=True, email="officer@example.com")
    user.groups.add(Group.objects.get(name="Privacy officer"))
    return user


def test_data_under_an_undeclared_title_is_exported_and_staff_are_told_to_declare_it(
    receiver, user_factory, officer, client, django_capture_on_commit_callbacks
):
    receiver["answers"]["access"] = {
        "status": "done",
        "data": {"Help desk tickets": [{"subject": "Printer"}], "Chat transcripts": [{"line": "Hello-CHAT"}]},
    }
    _declare(receiver["port"])
    with django_capture_on_commit_callbacks(execute=True):
        data_request = create_verified_request(user=user_factory(email="ann@example.com"), kind="access")
    export = DataExport.objects.get(data_request=data_request)
    assert export.state == DataExport.State.READY, export.error
    zf = _zip(export)
    assert b"Hello-CHAT" in zf.read("json/helpdesk_chat_transcripts.json")  # exported all the same
    report = zf.read("report.html").decode()
    assert "customer support" in report  # the declared title's meaning
    task = data_request.system_tasks.get(system_key="helpdesk")
    assert "Chat transcripts" in task.answer_note and "declare" in task.answer_note
    system = ExternalSystem.objects.get(key="helpdesk")
    event = AuditEvent.objects.get(verb="undeclared_data", object_id=str(system.pk))
    assert event.new == ["Chat transcripts"] and event.request_reference == data_request.reference

    client.force_login(officer)
    page = client.get(f"/admin/systems/externalsystem/{system.pk}/change/").content.decode()
    assert "does not declare: Chat transcripts" in page
    request_page = client.get(f"/admin/requests_app/datarequest/{data_request.pk}/change/").content.decode()
    assert "Chat transcripts" in request_page
    # Once declared, the notice goes.
    system.datasets.create(table="chats", title="Chat transcripts", identity={"email": "email"})
    page = client.get(f"/admin/systems/externalsystem/{system.pk}/change/").content.decode()
    assert "does not declare" not in page


def test_the_erasure_report_counts_what_each_system_deleted_and_what_owners_confirmed(
    receiver, user_factory, officer, django_capture_on_commit_callbacks
):
    receiver["answers"]["erasure"] = {"status": "done", "deleted": 3, "masked": 2}
    _declare(receiver["port"])
    with django_capture_on_commit_callbacks(execute=True):
        data_request = create_verified_request(user=user_factory(email="ann@example.com"), kind="erasure")
    with django_capture_on_commit_callbacks(execute=True):
        approve_erasure(data_request=data_request, actor=officer)
    run = ErasureRun.objects.get(data_request=data_request)
    if run.state != ErasureRun.State.COMPLETED:
        execute_erasure(data_request=data_request)
    data_request.refresh_from_db()
    assert data_request.status != "completed"  # the archive's owner has not answered yet
    archive = data_request.system_tasks.get(system_key="paper_archive")
    with django_capture_on_commit_callbacks(execute=True):
        connected.answer_nothing_found(task=archive, count=4)
    data_request.refresh_from_db()
    assert data_request.status == "completed"
    run.refresh_from_db()
    systems = {s["system"]: s for s in run.report["systems"]}
    assert systems["Help desk"] == {
        "system": "Help desk",
        "state": TaskState.DONE,
        "deleted": 3,
        "masked": 2,
        "confirmed_by_person": False,
    }
    assert (systems["Paper archive"]["deleted"], systems["Paper archive"]["confirmed_by_person"]) == (4, True)
    own = sum((d.get("counts") or {}).get("delete", 0) for d in run.report["datasets"])
    assert run.report["totals"]["delete"] == own + 3 + 4
    stored = data_request.files.get(purpose="result", name="erasure-report.json")
    with stored.file.open("rb") as fh:
        public = json.loads(fh.read())
    assert {s["system"] for s in public["systems"]} == {"Help desk", "Paper archive"}
    summary = data_request.completion_summary
    assert "Help desk: 3 deleted, 2 anonymised" in summary and "Paper archive: 4 deleted" in summary


def test_counts_a_system_sends_that_are_not_numbers_are_not_added(receiver, user_factory, officer):
    from fulfilment.services import report_with_system_tasks

    _declare(receiver["port"])
    data_request = create_verified_request(user=user_factory(), kind="erasure")
    [http, _manual] = connected.open_system_tasks(data_request=data_request)
    connected.complete_task(task=http, result={"status": "done", "deleted": "lots", "masked": -2})
    report = report_with_system_tasks({"datasets": [], "totals": {}}, data_request=data_request)
    assert report["totals"] == {} and report["systems"][0]["deleted"] == 0
