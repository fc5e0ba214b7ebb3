"""The demo's connected web shop: make run's demo people have orders in a database outside the portal, and an
access request shows theirs and nobody else's, with no server to install."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from fulfilment.models import DataExport
from requests_app.services import create_verified_request
from systems.models import ExternalSystem

pytestmark = pytest.mark.django_db


def test_the_demo_shop_is_declared_and_an_access_request_shows_ones_own_orders(django_capture_on_commit_callbacks):
    call_command("seed_demo", users=3, stdout=io.StringIO())
    shop = ExternalSystem.objects.get(key="demo_shop")
    assert shop.url_env == "DEMO_SHOP_DATABASE_URL" and shop.name == "Demo web shop"
    me, other = get_user_model().objects.filter(is_staff=False).exclude(email="").order_by("pk")[:2]
    with django_capture_on_commit_callbacks(execute=True):
        data_request = create_verified_request(user=me, kind="access")
    export = DataExport.objects.get(data_request=data_request)
    assert export.state == DataExport.State.READY, export.error
    zf = zipfile.ZipFile(io.BytesIO((Path(settings.PRIVATE_ROOT) / export.file_path).read_bytes()))
    customers = json.loads(zf.read("json/demo_shop_shop_customers.json"))
    assert [row["email"] for row in customers["rows"]] == [me.email]
    orders = json.loads(zf.read("json/demo_shop_shop_orders.json"))["rows"]
    assert orders and all(row["shipping_address"] for row in orders)
    assert other.email.encode() not in b"".join(zf.read(n) for n in zf.namelist())
    report = zf.read("report.html").decode()
    assert "Web shop orders" in report and "kept in Demo web shop" in report
