import pytest

from core.tasks import send_templated_mail_task
from tests.conftest import wait_until


@pytest.mark.django_db
def test_service_mail_is_delivered_over_smtp_without_unsubscribe(smtp_server):
    send_templated_mail_task.delay(to=["someone@example.com"], template="mail/core/test", context={"note": "n1"})
    [msg] = smtp_server.wait_for("someone@example.com")
    assert "n1" in smtp_server.text(msg)
    assert msg["List-Unsubscribe"] is None
    assert msg["X-Portal-Mail-Category"] == "service"
    assert msg.get_body(preferencelist=("html",)) is not None


@pytest.mark.redis
@pytest.mark.postgres
def test_real_worker_on_redis_delivers_mail(smtp_server, celery_worker_process):
    send_templated_mail_task.delay(to=["worker@example.com"], template="mail/core/test", context={"note": "via-redis"})
    wait_until(lambda: smtp_server.to("worker@example.com"), timeout=30)
    assert "via-redis" in smtp_server.text(smtp_server.to("worker@example.com")[0])
