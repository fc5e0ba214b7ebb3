"""Registry tasks on a real Celery worker: the erasure runs there and the request is sealed after its mail."""

import pytest

from tests.conftest import wait_until


@pytest.mark.postgres
@pytest.mark.redis
def test_erasure_on_a_real_worker_mails_the_real_address_then_seals(
    smtp_server, celery_worker_process, user_factory, officer
):
    from fulfilment import services
    from fulfilment.models import ErasureRun
    from requests_app.models import DataRequest
    from requests_app.services import create_verified_request
    from tests.registry.conftest import make_subject_data

    user = user_factory(first_name="Quentin", last_name="Vermeulen", email="q.vermeulen@example.com")
    make_subject_data(user)
    data_request = create_verified_request(user=user, kind="erasure")
    wait_until(lambda: ErasureRun.objects.filter(data_request=data_request).exists(), timeout=60)
    services.approve_erasure(data_request=data_request, actor=officer)  # committed: the worker runs it
    try:
        mails = smtp_server.wait_for("q.vermeulen@example.com", count=2, timeout=120)  # acknowledgement, completed
        run = wait_until(
            lambda: ErasureRun.objects.filter(data_request=data_request, sealed_at__isnull=False).first(), timeout=60
        )
    except AssertionError:
        print(celery_worker_process["log"].read_text(errors="replace")[-4000:])
        raise
    assert any(data_request.reference in m["Subject"] for m in mails)
    assert run.state == "completed"
    data_request = DataRequest.objects.get(pk=data_request.pk)
    assert data_request.requester_email.endswith("@erased.invalid")
    assert "Vermeulen" not in data_request.requester_name
