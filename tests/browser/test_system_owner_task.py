"""A manual system's owner answers through the mailed link in a real browser: the mail travels over real SMTP,
the page needs no account, and the uploaded file lands in the requester's export."""

import io
import re
import zipfile
from pathlib import Path

import pytest

from fulfilment.models import DataExport
from requests_app.services import create_verified_request
from systems.services import load_systems

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARCHIVE = """\
systems:
  - key: paper_archive
    name: Paper archive
    kind: manual
    owner: {name: Archive desk, email: archive@example.com}
    actions: [access]
"""


def test_the_owner_uploads_a_csv_through_the_mailed_link_and_it_is_in_the_export(
    page, live_server, smtp_server, settings, user_factory, tmp_path, django_capture_on_commit_callbacks
):
    settings.SITE_URL = live_server.url
    load_systems(text=ARCHIVE)
    with django_capture_on_commit_callbacks(execute=True):
        data_request = create_verified_request(user=user_factory(email="ann@example.com"), kind="access")
    [mail] = smtp_server.wait_for("archive@example.com")
    link = re.search(r"https?://\S+/privacy/data/systems/tasks/\S+/", smtp_server.text(mail)).group(0)
    assert data_request.reference in mail["Subject"]

    page.goto(link)
    assert "ann@example.com" in page.inner_text("main")
    found = tmp_path / "archive-search.csv"
    found.write_text("box,finding\n17,ARCHIVE-17\n")
    page.locator("input[type=file]").set_input_files(str(found))
    page.get_by_role("button", name="Send the files").click()
    page.get_by_role("heading", name="Thank you").wait_for()

    export = DataExport.objects.get(data_request=data_request)
    assert export.state == DataExport.State.READY, export.error
    with zipfile.ZipFile(io.BytesIO((Path(settings.PRIVATE_ROOT) / export.file_path).read_bytes())) as zf:
        assert zf.read("files/paper_archive/archive-search.csv") == b"box,finding\n17,ARCHIVE-17\n"
    page.goto(link)  # answered: the link is spent
    assert "does not work" in page.inner_text("main")
