from datetime import timedelta

import pytest
from django.utils import timezone

from policies.models import ChangeNotice, NoticeDelivery, VersionStatus
from policies.services import publish_version
from policies.tasks import activate_due_versions_task
from tests.conftest import wait_until


@pytest.mark.django_db
def test_activate_due_versions_task_is_registered_under_its_schedule_name(make_version):
    from privacyportal.celery import app

    assert app.tasks["policies.activate_due_versions"].name == activate_due_versions_task.name
    version = make_version()
    publish_version(version=version, effective_at=timezone.now() + timedelta(seconds=1))
    version.__class__.objects.filter(pk=version.pk).update(effective_at=timezone.now() - timedelta(seconds=1))
    assert activate_due_versions_task.delay().get() == 1
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_FORCE


@pytest.mark.redis
@pytest.mark.postgres
def test_real_worker_sends_change_notice_in_batches_over_smtp(
    smtp_server, celery_worker_process, settings, make_version, user_factory
):
    settings.POLICY_NOTICE_BATCH_SIZE = 2
    users = [user_factory() for _ in range(5)]
    make_version("# Policy\n\nv1\n", publish=True, now=timezone.now() - timedelta(days=30))
    version = make_version("# Policy\n\nv2 shares data.\n", is_material=True, summary="We share data now.")
    publish_version(version=version, effective_at=timezone.now() + timedelta(days=14))  # queued on commit

    notice = wait_until(
        lambda: ChangeNotice.objects.filter(version=version, status=ChangeNotice.Status.DONE).first(), timeout=60
    )
    assert (notice.total, notice.sent, notice.batches) == (5, 5, 3)
    for user in users:
        [message] = smtp_server.to(user.email)
        assert "We share data now." in smtp_server.text(message)
        assert message["X-Portal-Mail-Category"] == "service" and message["List-Unsubscribe"] is None
    assert NoticeDelivery.objects.filter(notice=notice, status="sent").count() == 5
