"""Upgrading a database of the release before fulfilment became an app of its own loses nothing.

The exports, erasure runs, account deletions and inactivity notices stay in their tables; the staff groups keep
their permissions on them, and the admin history keeps pointing at them.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from core.permissions import PRIVACY_OFFICER

# The last migrations of the release before the split.
BEFORE = [("registry", "0007_truncate_download_ips"), ("retention", "0006_watchdog_schedule")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_upgrade_keeps_exports_erasures_and_account_flows_with_their_permissions(user_factory):
    from requests_app.services import create_verified_request

    holder = user_factory(email="holder@example.com")
    data_request = create_verified_request(user=holder, kind="erasure")
    old = _migrate(BEFORE)
    # Rows written by the previous release, through its own models.
    OldExport = old.get_model("registry", "DataExport")
    OldDownload = old.get_model("registry", "ExportDownload")
    OldRun = old.get_model("registry", "ErasureRun")
    OldStep = old.get_model("registry", "ErasureStep")
    OldDeletion = old.get_model("retention", "AccountDeletion")
    OldNotice = old.get_model("retention", "InactiveAccountNotice")
    now = timezone.now()
    export = OldExport.objects.create(data_request_id=data_request.pk, state="ready", rows_total=7, rows_done=7)
    OldDownload.objects.create(export=export, via="session", ip="203.0.113.0")
    OldRun.objects.filter(data_request_id=data_request.pk).delete()  # the preview verification prepared
    run = OldRun.objects.create(data_request_id=data_request.pk, state="previewed", preview={"demo.Order": 2})
    OldStep.objects.create(run=run, position=1, dataset="demo.Order", counts={"deleted": 2})
    OldDeletion.objects.create(
        user_id=holder.pk,
        data_request_id=data_request.pk,
        request_reference=data_request.reference,
        requested_at=now,
        execute_after=now + timedelta(days=14),
    )
    OldNotice.objects.create(user_id=holder.pk, warned_at=now, delete_after=now + timedelta(days=30))
    # Staff permissions as the previous release granted them, under the old app label.
    view_export = Permission.objects.get(content_type__app_label="registry", codename="view_dataexport")
    officers = Group.objects.get(name=PRIVACY_OFFICER)
    officers.permissions.add(view_export)

    _migrate(_latest())

    from fulfilment.models import AccountDeletion, DataExport, ErasureRun, ExportDownload, InactiveAccountNotice

    moved = DataExport.objects.get(pk=export.pk)
    assert DataExport.objects.filter(data_request=data_request).count() == OldExport.objects.count()
    assert (moved.state, moved.rows_done, moved.data_request_id) == ("ready", 7, data_request.pk)
    assert ExportDownload.objects.get(export=moved).ip == "203.0.113.0"
    erasure = ErasureRun.objects.get(pk=run.pk)
    assert erasure.preview == {"demo.Order": 2}
    assert list(erasure.steps.values_list("dataset", "counts")) == [("demo.Order", {"deleted": 2})]
    assert data_request.erasure_run.pk == run.pk  # the request still reaches its run
    assert AccountDeletion.objects.get(user=holder).request_reference == data_request.reference
    assert InactiveAccountNotice.objects.filter(user=holder).count() == 1
    # The same permission row, now under fulfilment: the group keeps it, nobody has to grant it again.
    view_export.refresh_from_db()
    assert view_export.content_type == ContentType.objects.get_for_model(DataExport)
    assert ContentType.objects.get_for_model(DataExport).app_label == "fulfilment"
    assert not ContentType.objects.filter(app_label="registry", model="dataexport").exists()
    assert officers.permissions.filter(pk=view_export.pk).exists()
    officer = user_factory(is_staff=True)
    officer.groups.add(officers)
    assert officer.has_perm("fulfilment.view_dataexport")
