"""Demo data: realistic, verified demo users, and no subject's data in another's rows."""

import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command


@pytest.mark.smoke
@pytest.mark.django_db
def test_seed_demo_creates_users_and_every_dataset_and_exports_stay_separate(client):
    from allauth.account.models import EmailAddress

    from demo import models as m
    from fulfilment import services
    from requests_app.services import create_verified_request

    call_command("seed_demo", users=40)
    User = get_user_model()
    users = list(User.objects.filter(is_staff=False).order_by("pk"))
    assert len(users) == 40 and len({u.email for u in users}) == 40
    assert users[0].email.endswith(".1@example.com")
    assert EmailAddress.objects.filter(user__in=users, verified=True, primary=True).count() == 40
    assert client.login(username=users[0].email, password="demo-user-2026") or client.login(
        email=users[0].email, password="demo-user-2026"
    )
    for model in (
        m.Profile,
        m.TrafficLog,
        m.Order,
        m.Invoice,
        m.SupportConversation,
        m.SupportMessage,
        m.BlogComment,
        m.DeviceTelemetry,
        m.UploadedFile,
        m.NewsletterSubscription,
    ):
        assert model.objects.exists(), model
    dates = m.TrafficLog.objects.values_list("created_at", flat=True)
    assert (max(dates) - min(dates)).days > 365  # spread so retention has work

    data_request = create_verified_request(user=users[0], kind="access")
    export = services.build_export(export=services.start_export(data_request=data_request))
    with zipfile.ZipFile(Path(settings.PRIVATE_ROOT) / export.file_path) as zf:
        blob = b"".join(zf.read(n) for n in zf.namelist())
    assert users[0].email.encode() in blob
    for other in users[1:30]:
        assert other.email.encode() not in blob

    call_command("seed_demo", users=40)  # idempotent
    assert User.objects.filter(is_staff=False).count() == 40


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_first_seed_is_completed_by_the_next_if_empty_run(monkeypatch):
    """`make run` stopped while seeding must not leave half the demo data for good."""
    from demo import demo_data
    from demo.models import TrafficLog

    real_seed = demo_data.seed

    def interrupted(**kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(demo_data, "seed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        call_command("seed_demo", "--if-empty", users=5)
    assert not get_user_model().objects.filter(email=settings.DEMO_ADMIN_EMAIL).exists()
    monkeypatch.setattr(demo_data, "seed", real_seed)
    call_command("seed_demo", "--if-empty", users=5)
    assert get_user_model().objects.filter(email=settings.DEMO_ADMIN_EMAIL).exists()
    assert TrafficLog.objects.exists()


@pytest.mark.django_db
def test_seed_demo_also_runs_as_a_celery_task():
    from demo.tasks import seed_demo_task

    assert seed_demo_task.delay(users=3).get().startswith("Demo data loaded.")
    assert get_user_model().objects.filter(is_staff=False).count() == 3
    assert seed_demo_task.delay(users=3).get() == "Demo data already loaded."
