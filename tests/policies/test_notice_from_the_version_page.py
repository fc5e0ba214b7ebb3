"""A material change's notice sent from the version's page: who will be mailed first, then progress and one report."""

import smtplib
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from core.permissions import PRIVACY_OFFICER, SUPPORT_AGENT, sync_group_permissions
from policies import selectors, services
from policies.models import ChangeNotice, NoticeDelivery


@pytest.fixture
def staff_in(user_factory):
    sync_group_permissions()

    def make(group):
        member = user_factory(is_staff=True, email=f"{group.split()[0].lower()}@example.com")
        member.groups.add(Group.objects.get(name=group))
        return member

    return make


def _material(make_version):
    version = make_version("# Policy\n\nWe now share data with partners.\n", is_material=True, summary="Sharing.")
    return services.publish_version(version=version, effective_at=timezone.now() + timedelta(days=7))


def test_send_now_mails_only_those_not_told_yet(
    in_force_v1, make_version, user_factory, django_capture_on_commit_callbacks
):
    told, waiting = user_factory(email="told@example.com"), user_factory(email="waiting@example.com")
    version = _material(make_version)  # on_commit not run: the queued notice never started
    NoticeDelivery.objects.create(notice=version.notice, user=told, status=NoticeDelivery.Status.SENT)
    assert list(selectors.list_notice_waiting(version=version)) == [waiting]
    with django_capture_on_commit_callbacks(execute=True):
        notice = services.send_change_notice_now(version=version, actor=None)
    assert [m.to for m in mail.outbox] == [[waiting.email]]
    notice.refresh_from_db()
    assert notice.status == ChangeNotice.Status.DONE
    event = AuditEvent.objects.filter(verb="notice_queued", note__contains="version's page").get()
    assert event.new["to_tell"] == 1


def test_send_now_takes_up_a_finished_notice_when_more_must_be_told(
    in_force_v1, make_version, user_factory, django_capture_on_commit_callbacks
):
    user_factory(email="first@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        version = _material(make_version)
    assert version.notice.__class__.objects.get(pk=version.notice.pk).status == "done"
    # Someone whose account existed before the change but was reactivated after the notice finished.
    late = user_factory(email="late@example.com", is_active=False)
    late.is_active = True
    late.save()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.send_change_notice_now(version=version, actor=None)
    assert [m.to for m in mail.outbox] == [[late.email]]
    notice = ChangeNotice.objects.get(version=version)
    assert (notice.status, notice.sent, notice.total) == ("done", 2, 2)
    assert ChangeNotice.objects.count() == 1  # one notice, one report


def test_send_now_refuses_what_is_not_a_published_material_change(in_force_v1, make_version, user_factory):
    user_factory()
    with pytest.raises(ValidationError):
        services.send_change_notice_now(version=in_force_v1, actor=None)  # not material
    draft = make_version("# Draft\n", is_material=True)
    with pytest.raises(ValidationError):
        services.send_change_notice_now(version=draft, actor=None)
    version = _material(make_version)
    NoticeDelivery.objects.bulk_create(
        [
            NoticeDelivery(notice=version.notice, user=u, status="sent")
            for u in selectors.list_notice_waiting(version=version)
        ]
    )
    with pytest.raises(ValidationError, match="has been told"):
        services.send_change_notice_now(version=version, actor=None)


def test_a_support_agent_may_read_the_report_but_not_send(client, staff_in, in_force_v1, make_version, user_factory):
    user_factory()
    version = _material(make_version)
    agent = staff_in(SUPPORT_AGENT)
    with pytest.raises(PermissionDenied):
        services.send_change_notice_now(version=version, actor=agent)
    client.force_login(agent)
    page = client.get(f"/admin/policies/policyversion/{version.pk}/change/").content.decode()
    assert "Send the change notice" not in page
    assert client.get(f"/admin/policies/policyversion/{version.pk}/notice/").status_code == 403
    assert client.post(f"/admin/policies/policyversion/{version.pk}/notice/").status_code == 403
    assert client.get(f"/admin/policies/policyversion/{version.pk}/notice/report/").status_code == 200
    assert not mail.outbox


def test_the_confirmation_says_who_will_be_mailed_and_how_many(
    client, staff_in, in_force_v1, make_version, user_factory
):
    for name in ("ann", "bob", "cy"):
        user_factory(email=f"{name}@example.com")
    version = _material(make_version)
    officer = staff_in(PRIVACY_OFFICER)
    client.force_login(officer)
    page = client.get(f"/admin/policies/policyversion/{version.pk}/change/").content.decode()
    assert f"/admin/policies/policyversion/{version.pk}/notice/" in page
    confirm = client.get(f"/admin/policies/policyversion/{version.pk}/notice/").content.decode()
    # Every active account holder who joined before the change (the officer too) and has not been told.
    assert "4 account holders have not been told yet" in confirm
    assert "ann@example.com" in confirm and "Send to 4 account holders" in confirm
    assert not mail.outbox  # nothing sent by looking


def test_sending_from_the_page_leads_to_one_report_with_the_failures_and_why(
    client, staff_in, in_force_v1, make_version, user_factory, monkeypatch, django_capture_on_commit_callbacks
):
    user_factory(email="ok@example.com")
    user_factory(email="gone@example.com")
    version = _material(make_version)
    officer = staff_in(PRIVACY_OFFICER)
    real = services._send_notice_mail

    def refuse_gone(*, version, user):
        if user.email == "gone@example.com":
            raise smtplib.SMTPRecipientsRefused({user.email: (550, b"5.1.1 User unknown")})
        real(version=version, user=user)

    monkeypatch.setattr(services, "_send_notice_mail", refuse_gone)
    client.force_login(officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/policies/policyversion/{version.pk}/notice/")
    report_url = f"/admin/policies/policyversion/{version.pk}/notice/report/"
    assert response.status_code == 302 and response["Location"] == report_url
    report = client.get(report_url).content.decode()
    assert "Finished." in report
    assert "<dt>Told</dt><dd>2</dd>" in report and "<dt>Could not be told</dt><dd>1</dd>" in report
    assert "gone@example.com" in report and "550 5.1.1 User unknown" in report
    assert "SMTPRecipientsRefused" not in report and "b&#x27;" not in report
    progress = client.get(f"/admin/policies/policyversion/{version.pk}/notice/progress/").json()
    assert progress == {"state": "ready", "percent": 100, "rows_done": 3, "rows_total": 3}
    # The version's page links to that one report.
    page = client.get(f"/admin/policies/policyversion/{version.pk}/change/").content.decode()
    assert report_url in page and "2 of 3 told" in page


def test_the_report_follows_a_notice_while_it_runs(client, staff_in, in_force_v1, make_version, user_factory):
    for _ in range(4):
        user_factory()
    version = _material(make_version)  # queued, not started (no worker ran it)
    ChangeNotice.objects.filter(pk=version.notice.pk).update(status="sending", total=4, sent=1)
    client.force_login(staff_in(PRIVACY_OFFICER))
    report = client.get(f"/admin/policies/policyversion/{version.pk}/notice/report/").content.decode()
    assert f'data-progress-url="/admin/policies/policyversion/{version.pk}/notice/progress/"' in report
    assert 'value="25"' in report
    progress = client.get(f"/admin/policies/policyversion/{version.pk}/notice/progress/")
    assert progress.json() == {"state": "running", "percent": 25, "rows_done": 1, "rows_total": 4}
    assert "no-store" in progress["Cache-Control"]
    assert client.get("/admin/policies/policyversion/999999/notice/progress/").status_code in (302, 404)


def test_the_change_notice_list_links_each_notice_to_its_report(client, staff_in, in_force_v1, make_version):
    version = _material(make_version)
    client.force_login(staff_in(PRIVACY_OFFICER))
    page = client.get("/admin/policies/changenotice/").content.decode()
    assert f'href="/admin/policies/policyversion/{version.pk}/notice/report/"' in page


def test_a_notice_s_own_page_is_its_report_on_the_version(client, staff_in, in_force_v1, make_version):
    from policies.models import ChangeNotice

    version = _material(make_version)
    notice = ChangeNotice.objects.get(version=version)
    client.force_login(staff_in(PRIVACY_OFFICER))
    page = client.get(f"/admin/policies/changenotice/{notice.pk}/change/")
    assert page.status_code == 302 and page["Location"] == f"/admin/policies/policyversion/{version.pk}/notice/report/"
    report = client.get(page["Location"])
    assert report.status_code == 200 and "batch_size" not in report.content.decode()
