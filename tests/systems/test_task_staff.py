"""Staff work on connected-system tasks: reassign one (a fresh link; the earlier one stops working), answer it
as its owner would, or add one by hand to any request, for a declared system or for any person by e-mail."""

import re

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from fulfilment import connected
from fulfilment.models import DataExport, SystemTask, TaskState
from requests_app.services import create_verified_request
from tests.systems.test_connected import _zip, declare

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(user_factory):
    user = user_factory(is_staff=True, email="officer@example.com")
    user.groups.add(Group.objects.get(name="Privacy officer"))
    return user


@pytest.fixture
def agent(user_factory):
    user = user_factory(is_staff=True, email="agent@example.com")
    user.groups.add(Group.objects.get(name="Support agent"))
    return user


def _link(mailoutbox, to: str) -> str:
    [mail] = [m for m in mailoutbox if m.to == [to]]
    return re.search(r"https?://\S+?(/privacy/data/systems/tasks/\S+/)", mail.body).group(1)


def _archive_task(receiver, user_factory, mailoutbox, capture, kind="access"):
    declare(receiver["port"])
    with capture(execute=True):
        data_request = create_verified_request(user=user_factory(email="ann@example.com"), kind=kind)
    return data_request, data_request.system_tasks.get(system_key="paper_archive")


def test_reassigning_mails_a_fresh_link_and_the_old_one_stops_working(
    receiver, user_factory, officer, client, mailoutbox, django_capture_on_commit_callbacks
):
    _request, task = _archive_task(receiver, user_factory, mailoutbox, django_capture_on_commit_callbacks)
    old_link = _link(mailoutbox, "archive@example.com")
    assert client.get(old_link).status_code == 200
    client.force_login(officer)
    page = client.get(f"/privacy/data/staff/tasks/{task.pk}/")
    assert page.status_code == 200 and "Give it to someone else" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            f"/privacy/data/staff/tasks/{task.pk}/", {"do": "reassign", "reassign-owner_email": "bob@example.com"}
        )
    assert answer.status_code == 302
    client.logout()
    assert client.get(old_link).status_code == 404
    new_link = _link(mailoutbox, "bob@example.com")
    assert new_link != old_link and client.get(new_link).status_code == 200
    task.refresh_from_db()
    assert (task.owner_email, task.state) == ("bob@example.com", TaskState.SENT)
    from fulfilment.tasks import send_system_task_task

    with django_capture_on_commit_callbacks(execute=True):  # a late retry of the first send changes nothing
        send_system_task_task.apply(args=[task.pk])
    assert client.get(new_link).status_code == 200
    event = AuditEvent.objects.get(verb="task_reassigned", object_id=str(task.pk))
    assert (event.old, event.new, event.actor_id) == ("archive@example.com", "bob@example.com", officer.pk)


def test_reassigning_refuses_bad_input_settled_tasks_and_staff_without_the_right(
    receiver, user_factory, officer, agent, client, mailoutbox, django_capture_on_commit_callbacks
):
    _request, task = _archive_task(receiver, user_factory, mailoutbox, django_capture_on_commit_callbacks)
    with pytest.raises(PermissionDenied):
        connected.reassign_task(task=task, owner_email="bob@example.com", actor=agent)
    with pytest.raises(PermissionDenied):
        connected.reassign_task(task=task, owner_email="bob@example.com", actor=None)
    client.force_login(officer)
    bad = client.post(f"/privacy/data/staff/tasks/{task.pk}/", {"do": "reassign", "reassign-owner_email": "bob"})
    assert bad.status_code == 400
    client.force_login(agent)
    refused = client.post(
        f"/privacy/data/staff/tasks/{task.pk}/", {"do": "reassign", "reassign-owner_email": "bob@example.com"}
    )
    assert refused.status_code == 403
    task.refresh_from_db()
    assert task.owner_email == "archive@example.com"
    connected.skip_task(task=task, reason="Archive closed for good.", actor=officer)
    with pytest.raises(ValidationError):
        connected.reassign_task(task=task, owner_email="bob@example.com", actor=officer)


def test_staff_answer_with_files_and_the_files_are_in_the_export(
    receiver, user_factory, officer, client, mailoutbox, django_capture_on_commit_callbacks
):
    receiver["answers"]["access"] = {"status": "done", "data": {}}
    data_request, task = _archive_task(receiver, user_factory, mailoutbox, django_capture_on_commit_callbacks)
    owner_link = _link(mailoutbox, "archive@example.com")
    client.force_login(officer)
    upload = SimpleUploadedFile("found.csv", b"box,finding\n3,STAFF-FOUND\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(
            f"/privacy/data/staff/tasks/{task.pk}/", {"do": "answer", "answer-answer": "files", "answer-files": upload}
        )
    assert answer.status_code == 302
    task.refresh_from_db()
    assert task.state == TaskState.DONE and "staff" in task.answer_note
    assert AuditEvent.objects.get(verb="task_done", object_id=str(task.pk)).actor_id == officer.pk
    export = DataExport.objects.get(data_request=data_request)
    assert export.state == DataExport.State.READY, export.error
    assert _zip(export).read("files/paper_archive/found.csv") == b"box,finding\n3,STAFF-FOUND\n"
    client.logout()
    assert client.get(owner_link).status_code == 404  # answered: the owner's link is spent


def test_when_the_download_expires_what_the_systems_sent_back_goes_with_it(
    receiver, user_factory, officer, client, mailoutbox, django_capture_on_commit_callbacks
):
    from datetime import timedelta
    from pathlib import Path

    from django.conf import settings
    from django.utils import timezone

    from fulfilment.models import SystemTaskFile
    from fulfilment.services import purge_expired_exports

    receiver["answers"]["access"] = {"status": "done", "data": {"Tickets": [{"subject": "HELPDESK-ROW"}]}}
    data_request, task = _archive_task(receiver, user_factory, mailoutbox, django_capture_on_commit_callbacks)
    client.force_login(officer)
    upload = SimpleUploadedFile("found.csv", b"box,finding\n3,ARCHIVE-ROW\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/privacy/data/staff/tasks/{task.pk}/", {"do": "answer", "answer-answer": "files", "answer-files": upload}
        )
    export = DataExport.objects.get(data_request=data_request, state=DataExport.State.READY)
    helpdesk = data_request.system_tasks.get(system_key="helpdesk")
    assert helpdesk.result["data"]["Tickets"] == [{"subject": "HELPDESK-ROW"}]
    [stored] = SystemTaskFile.objects.filter(task=task)
    on_disk = Path(settings.PRIVATE_ROOT) / stored.path
    assert on_disk.exists()
    # Still downloadable: nothing is cleared.
    assert purge_expired_exports() == 0 and on_disk.exists()
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert purge_expired_exports() == 1
    helpdesk.refresh_from_db()
    assert "data" not in helpdesk.result and helpdesk.result["rows_delivered"] == {"Tickets": 1}
    assert helpdesk.state == TaskState.DONE  # the proof that the system was searched stays
    assert not on_disk.exists() and not SystemTaskFile.objects.filter(task=task).exists()
    cleared = AuditEvent.objects.filter(verb="task_answer_cleared", request_reference=data_request.reference)
    assert {e.object_id for e in cleared} == {str(task.pk), str(helpdesk.pk)}


def test_staff_answer_an_erasure_with_a_count_or_say_why_not(
    receiver, user_factory, officer, mailoutbox, django_capture_on_commit_callbacks
):
    declare(receiver["port"], manual=False)
    from systems.services import load_systems

    load_systems(
        text="""\
systems:
  - key: paper_archive
    name: Paper archive
    kind: manual
    owner: {name: Archive desk, email: archive@example.com}
    actions: [erasure]
  - key: old_mailbox
    name: Old mailbox
    kind: manual
    owner: {name: Sales, email: sales@example.com}
    actions: [erasure]
"""
    )
    with django_capture_on_commit_callbacks(execute=True):
        data_request = create_verified_request(user=user_factory(), kind="erasure")
    archive = data_request.system_tasks.get(system_key="paper_archive")
    mailbox = data_request.system_tasks.get(system_key="old_mailbox")
    connected.answer_task_as_staff(task=archive, actor=officer, answer="none", count=4)
    archive.refresh_from_db()
    assert (archive.state, archive.result, archive.answer_note) == (
        TaskState.DONE,
        {"deleted": 4},
        "Deleted 4 records.",
    )
    with pytest.raises(ValidationError):
        connected.answer_task_as_staff(task=mailbox, actor=officer, answer="cannot", reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        connected.answer_task_as_staff(task=mailbox, actor=officer, answer="cannot", reason="The box was sold.")
    mailbox.refresh_from_db()
    assert mailbox.state == TaskState.FAILED and mailbox.error == "The box was sold."
    assert any(m.to == ["officer@example.com"] and "The box was sold." in m.body for m in mailoutbox)
    with pytest.raises(ValidationError):  # settled tasks are not answered twice
        connected.answer_task_as_staff(task=archive, actor=officer, answer="none")


def test_a_task_added_by_hand_for_a_person_mails_them_what_is_asked(
    receiver, user_factory, officer, client, mailoutbox, django_capture_on_commit_callbacks
):
    declare(receiver["port"], manual=False)
    data_request = create_verified_request(user=user_factory(email="ann@example.com"), kind="objection")
    client.force_login(officer)
    form = client.get(f"/privacy/data/staff/requests/{data_request.pk}/tasks/new/")
    assert form.status_code == 200 and "Help desk" in form.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        added = client.post(
            f"/privacy/data/staff/requests/{data_request.pk}/tasks/new/",
            {
                "system": "",
                "owner_email": "sales-lead@example.com",
                "owner_name": "Sales team mailbox",
                "action": "restriction",
                "instructions": "Stop sending her the trade-fair newsletter.",
            },
        )
    assert added.status_code == 302
    task = data_request.system_tasks.get()
    assert (task.system_name, task.kind, task.state) == ("Sales team mailbox", "manual", TaskState.SENT)
    [mail] = [m for m in mailoutbox if m.to == ["sales-lead@example.com"]]
    assert "trade-fair newsletter" in mail.body
    client.logout()
    page = client.get(_link(mailoutbox, "sales-lead@example.com")).content.decode()
    assert "trade-fair newsletter" in page and "ann@example.com" in page
    assert AuditEvent.objects.get(verb="task_added").actor_id == officer.pk


def test_a_task_added_by_hand_for_a_web_service_calls_it_signed(
    receiver, user_factory, officer, django_capture_on_commit_callbacks
):
    declare(receiver["port"], manual=False)
    data_request = create_verified_request(user=user_factory(), kind="rectification")
    receiver["calls"].clear()
    with django_capture_on_commit_callbacks(execute=True):
        task = connected.add_owner_task(
            data_request=data_request, actor=officer, action="erasure", system_key="helpdesk"
        )
    [(action, signed, _body)] = receiver["calls"]
    assert (action, signed) == ("erasure", True)
    task.refresh_from_db()
    assert task.state == TaskState.DONE


def test_adding_a_task_by_hand_refuses_bad_input_and_staff_without_the_right(
    receiver, user_factory, officer, agent, client
):
    declare(receiver["port"], manual=False)
    data_request = create_verified_request(user=user_factory(), kind="access")
    url = f"/privacy/data/staff/requests/{data_request.pk}/tasks/new/"
    client.force_login(officer)
    for data in (
        {"system": "", "owner_email": "", "action": "access", "instructions": "Look in the shed."},  # nobody
        {"system": "", "owner_email": "x@example.com", "action": "access", "instructions": ""},  # asks nothing
        {"system": "", "owner_email": "x@example.com", "action": "burn", "instructions": "All of it."},
        {"system": "nope", "owner_email": "", "action": "access", "instructions": ""},
    ):
        assert client.post(url, data).status_code == 400, data
    connected.open_system_tasks(data_request=data_request)  # the help desk's own access task
    count = SystemTask.objects.filter(data_request=data_request).count()
    with pytest.raises(ValidationError):  # the same system and action twice
        connected.add_owner_task(data_request=data_request, actor=officer, action="access", system_key="helpdesk")
    assert SystemTask.objects.filter(data_request=data_request).count() == count
    client.force_login(agent)
    assert client.get(url).status_code == 403
    with pytest.raises(PermissionDenied):
        connected.add_owner_task(
            data_request=data_request, actor=agent, action="access", owner_email="x@example.com", instructions="Look."
        )


def test_a_search_added_by_hand_after_the_export_was_built_gives_the_requester_a_new_export(
    receiver, user_factory, officer, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        data_request = create_verified_request(user=user_factory(email="ann@example.com"), kind="access")
    first = DataExport.objects.get(data_request=data_request)
    assert first.state == DataExport.State.READY, first.error
    # Staff remember the paper archive after the export went out, while the request is still open.
    with django_capture_on_commit_callbacks(execute=True):
        task = connected.add_owner_task(
            data_request=data_request,
            actor=officer,
            action="access",
            owner_email="archive@example.com",
            instructions="Look in the 2019 order boxes.",
        )
    upload = SimpleUploadedFile("found.csv", b"box,finding\n9,LATE-FIND\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        connected.answer_with_files(task=task, files=[upload])
    first.refresh_from_db()
    assert first.state == DataExport.State.EXPIRED  # its link no longer works
    newest = DataExport.objects.filter(data_request=data_request).latest("created_at")
    assert newest.pk != first.pk and newest.state == DataExport.State.READY, newest.error
    assert _zip(newest).read(f"files/{task.system_key}/found.csv") == b"box,finding\n9,LATE-FIND\n"
