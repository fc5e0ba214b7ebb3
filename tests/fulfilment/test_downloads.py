"""The download audit keeps only the network part of the downloader's address, as the consent log does."""

import importlib

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from fulfilment import services
from fulfilment.models import ExportDownload

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready_export(user_factory, subject_data, verified_request_for):
    owner = user_factory()
    subject_data(owner)
    export = services.build_export(export=services.start_export(data_request=verified_request_for(owner)))
    return owner, export


@pytest.mark.parametrize(
    ("address", "stored"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "2001:db8:85a3::"),
        ("::ffff:198.51.100.9", "198.51.100.0"),
    ],
)
def test_a_download_is_audited_with_a_truncated_address(client, ready_export, address, stored):
    owner, export = ready_export
    client.force_login(owner)
    response = client.get(f"/privacy/data/exports/{export.pk}/download/", REMOTE_ADDR=address)
    assert response.status_code == 200
    [row] = ExportDownload.objects.filter(export=export)
    assert row.ip == stored and row.user == owner


def test_the_migration_truncates_addresses_stored_in_full(ready_export):
    _, export = ready_export
    full = [
        ExportDownload.objects.create(export=export, via="session", ip="203.0.113.77"),
        ExportDownload.objects.create(export=export, via="status-link", ip="2001:db8:85a3:8d3::7348"),
        ExportDownload.objects.create(export=export, via="session", ip=""),
    ]
    migration = importlib.import_module("registry.migrations.0007_truncate_download_ips")
    # The models as they stood at that migration (ExportDownload was still the registry's then).
    state = MigrationLoader(connection).project_state(("registry", "0007_truncate_download_ips"))
    migration.truncate_download_ips(state.apps, None)
    assert [ExportDownload.objects.get(pk=r.pk).ip for r in full] == ["203.0.113.0", "2001:db8:85a3::", ""]
