from datetime import timedelta

import pytest
from django.utils import timezone

from policies.models import DocumentKind
from policies.services import create_version, ensure_document, publish_version


@pytest.fixture
def privacy_document(db):
    return ensure_document(kind=DocumentKind.PRIVACY, title="Privacy policy")


@pytest.fixture
def make_version(privacy_document):
    """Create a draft (optionally published) version of the privacy policy, or of another document."""

    def make(body="# Policy\n\nWe keep little.", *, document=None, summary="", is_material=False, publish=False, **kw):
        version = create_version(
            document=document or privacy_document, body=body, summary=summary, is_material=is_material
        )
        if publish:
            version = publish_version(version=version, **kw)
        return version

    return make


@pytest.fixture
def in_force_v1(make_version):
    """A first privacy policy, in force since a year ago."""
    return make_version(
        "# Policy\n\nWe keep your e-mail address.\n", publish=True, now=timezone.now() - timedelta(days=365)
    )
