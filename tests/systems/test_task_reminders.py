"""Owner tasks are due SYSTEM_TASK_DAYS_BEFORE_DEADLINE days before the request's deadline; their owners are
reminded before that (a fresh link each time), and the privacy officers hear once a day of overdue tasks."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from audit.models import AuditEvent
from fulfilment import connected
from fulfilment.models import TaskState
from requests_app.services import create_verified_request
from systems.services import load_systems

pytestmark = pytest.mark.django_db

ARCHIVE = """\
systems:
  - key: paper_archive
    name: Paper archive
    kind: manual
    owner: {name: Archive desk, email: archive@example.com}
    actions: [access]
"""


@pytest.fixture
def officer(user_factory):
    user = user_factory(is_staff=True, email="officer@example.com")
    user.groups.add(Group.objects.get(name="Privacy officer"))
    return user


def _links(messages) -> list[str]:
    return [re.search(r"https?://\S+?(/privacy/data/systems/tasks/\S+/)", m).group(1) for m in messages]


@pytest.fixture
def task(user_factory, settings, django_capture_on_commit_callbacks):
    settings.SYSTEM_TASK_DAYS_BEFORE_DEADLINE = 5
    settings.SYSTEM_TASK_REMINDER_DAYS = [3, 1]
    load_systems(text=ARCHIVE)
    with django_capture_on_commit_callbacks(execute=True):
        data_request = create_verified_request(user=user_factory(email="ann@example.com"), kind="access")
    task = data_request.system_tasks.get()
    assert task.state == TaskState.SENT
    return task


def test_the_task_is_due_the_configured_days_before_the_legal_deadline(task):
    assert task.due_at == task.data_request.due_at - timedelta(days=5)


def test_owners_are_reminded_once_per_offset_with_a_fresh_link(
    smtp_server, task, officer, client, django_capture_on_commit_callbacks
):
    [first] = smtp_server.wait_for("archive@example.com")
    [old_link] = _links([smtp_server.text(first)])
    due = task.due_at
    with django_capture_on_commit_callbacks(execute=True):
        assert connected.remind_system_tasks(now=due - timedelta(days=5))["reminded"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert connected.remind_system_tasks(now=due - timedelta(days=3, hours=1))["reminded"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert connected.remind_system_tasks(now=due - timedelta(days=2, hours=23))["reminded"] == 0  # once
    mails = smtp_server.wait_for("archive@example.com", count=2)
    assert "Reminder" in mails[1]["Subject"] and task.data_request.reference in mails[1]["Subject"]
    [new_link] = _links([smtp_server.text(mails[1])])
    assert client.get(old_link).status_code == 404  # replaced by the reminder's link
    assert client.get(new_link).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert connected.remind_system_tasks(now=due - timedelta(hours=20))["reminded"] == 1  # the 1-day reminder
    assert len(smtp_server.wait_for("archive@example.com", count=3)) == 3
    assert AuditEvent.objects.filter(verb="task_reminded", object_id=str(task.pk)).count() == 2
    assert smtp_server.to("officer@example.com") == []  # not overdue yet


def test_overdue_tasks_reach_the_officers_once_a_day_until_settled(
    task, officer, mailoutbox, django_capture_on_commit_callbacks
):
    late = task.due_at + timedelta(hours=2)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert connected.remind_system_tasks(now=late)["escalated"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert connected.remind_system_tasks(now=late + timedelta(minutes=30))["escalated"] == 0  # same day
    [digest] = [m for m in mailoutbox if m.to == ["officer@example.com"]]
    assert "Paper archive" in digest.body and task.data_request.reference in digest.body
    assert f"/privacy/data/staff/tasks/{task.pk}/" in digest.body
    with django_capture_on_commit_callbacks(execute=True):
        assert connected.remind_system_tasks(now=late + timedelta(days=1))["escalated"] == 1  # the next day
    assert AuditEvent.objects.filter(verb="task_overdue", object_id=str(task.pk)).count() == 1
    connected.skip_task(task=task, reason="Archive closed.", actor=officer)
    with django_capture_on_commit_callbacks(execute=True):
        assert connected.remind_system_tasks(now=late + timedelta(days=2))["escalated"] == 0


def test_the_request_page_marks_an_overdue_line_and_the_command_runs(task, officer, client, settings, capsys):
    client.force_login(officer)
    from requests_app.admin import fulfilment_html

    assert "overdue" not in fulfilment_html(task.data_request)
    type(task).objects.filter(pk=task.pk).update(due_at=task.due_at - timedelta(days=40))
    task.data_request.refresh_from_db()
    assert "could not be done" not in fulfilment_html(task.data_request)
    assert "sent, overdue" in fulfilment_html(task.data_request)
    call_command("remind_system_tasks")
    assert "1 overdue" in capsys.readouterr().out
