"""Building a request's export again from the export's admin page: the consequence first, then progress and the result."""

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from core.permissions import PRIVACY_OFFICER, sync_group_permissions
from fulfilment import services
from fulfilment.exports import export_file_path
from fulfilment.models import DataExport

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_in(user_factory):
    sync_group_permissions()

    def make(group):
        member = user_factory(is_staff=True, email=f"{group.split()[0].lower()}@example.com")
        member.groups.add(Group.objects.get(name=group))
        return member

    return make


@pytest.fixture
def reader(user_factory):
    """Staff who may read exports but not work requests."""
    from django.contrib.auth.models import Permission

    member = user_factory(is_staff=True, email="reader@example.com")
    member.user_permissions.add(Permission.objects.get(codename="view_dataexport"))
    return member


@pytest.fixture
def ready_export(user_factory, subject_data, verified_request_for):
    user = user_factory(email="requester@example.com")
    subject_data(user)
    data_request = verified_request_for(user)
    export = services.build_export(export=services.start_export(data_request=data_request))
    assert export.state == DataExport.State.READY
    mail.outbox.clear()
    return export


def test_rebuild_withdraws_the_ready_copy_and_builds_a_new_one(
    ready_export, staff_in, django_capture_on_commit_callbacks
):
    officer = staff_in(PRIVACY_OFFICER)
    old_file = export_file_path(ready_export)
    assert old_file is not None
    with django_capture_on_commit_callbacks(execute=True):
        new = services.rebuild_export(export=ready_export, actor=officer)
    ready_export.refresh_from_db()
    new.refresh_from_db()
    assert new.pk != ready_export.pk
    assert ready_export.state == DataExport.State.EXPIRED and not old_file.exists()
    assert new.state == DataExport.State.READY  # built by the queued task (eager in tests)
    assert [m.to for m in mail.outbox] == [["requester@example.com"]]  # the new link, once it is ready
    verbs = list(AuditEvent.objects.filter(actor=officer).values_list("verb", flat=True))
    assert "export_expired" in verbs and "export_started" in verbs


def test_rebuild_is_refused_while_building_on_a_closed_request_and_without_the_permission(
    ready_export, staff_in, reader
):
    with pytest.raises(PermissionDenied):
        services.rebuild_export(export=ready_export, actor=reader)
    officer = staff_in(PRIVACY_OFFICER)
    DataExport.objects.filter(pk=ready_export.pk).update(state=DataExport.State.RUNNING)
    from django.utils import timezone

    DataExport.objects.filter(pk=ready_export.pk).update(started_at=timezone.now())
    with pytest.raises(ValidationError, match="being built"):
        services.rebuild_export(export=ready_export, actor=officer)
    DataExport.objects.filter(pk=ready_export.pk).update(state=DataExport.State.READY)
    ready_export.data_request.__class__.objects.filter(pk=ready_export.data_request_id).update(status="completed")
    with pytest.raises(ValidationError, match="closed"):
        services.rebuild_export(export=ready_export, actor=officer)
    assert DataExport.objects.count() == 1


def test_the_export_page_reads_in_words_and_offers_the_rebuild_to_those_who_may(client, ready_export, staff_in, reader):
    url = f"/admin/fulfilment/dataexport/{ready_export.pk}/change/"
    client.force_login(reader)
    page = client.get(url).content.decode()
    assert "Build the export again" not in page
    assert client.get(f"/admin/fulfilment/dataexport/{ready_export.pk}/rebuild/").status_code == 403
    client.force_login(staff_in(PRIVACY_OFFICER))
    page = client.get(url).content.decode()
    assert "Build the export again" in page
    assert "Ready:" in page and ready_export.data_request.reference in page
    assert ready_export.file_path not in page  # no storage path on a staff screen
    assert "data-progress-reload" not in page  # a finished export is not followed


def test_the_confirmation_says_what_happens_and_the_new_export_page_follows_the_build(
    client, ready_export, staff_in, monkeypatch
):
    client.force_login(staff_in(PRIVACY_OFFICER))
    confirm = client.get(f"/admin/fulfilment/dataexport/{ready_export.pk}/rebuild/").content.decode()
    assert "requester@example.com is mailed the link" in confirm
    assert "its download link, valid until" in confirm and "stops working" in confirm
    assert DataExport.objects.count() == 1  # nothing done by looking
    # No worker picks the build up here: the new export's page shows it queued, with the progress bar.
    monkeypatch.setattr(services, "_queue_build", lambda export_id: None)
    response = client.post(f"/admin/fulfilment/dataexport/{ready_export.pk}/rebuild/")
    new = DataExport.objects.exclude(pk=ready_export.pk).get()
    assert response.status_code == 302 and response["Location"] == f"/admin/fulfilment/dataexport/{new.pk}/change/"
    page = client.get(response["Location"]).content.decode()
    assert f'data-progress-url="/privacy/data/exports/{new.pk}/progress/" data-progress-reload' in page
    assert "Being built" in page and "Build the export again" not in page
    again = client.post(f"/admin/fulfilment/dataexport/{new.pk}/rebuild/", follow=True).content.decode()
    assert "being built" in again


def test_the_request_page_links_each_export_to_its_own_page(client, ready_export, staff_in):
    client.force_login(staff_in(PRIVACY_OFFICER))
    page = client.get(f"/admin/requests_app/datarequest/{ready_export.data_request_id}/change/").content.decode()
    assert f'href="/admin/fulfilment/dataexport/{ready_export.pk}/change/"' in page


def test_the_export_list_speaks_the_staff_member_s_language(client, ready_export, staff_in):
    client.force_login(staff_in(PRIVACY_OFFICER))
    page = client.get("/admin/fulfilment/dataexport/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Expiration du lien" in page and "Lancer un nouvel export" in page
    assert "start a new export" not in page
