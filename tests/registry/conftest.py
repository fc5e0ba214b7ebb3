"""Subjects with rows in every demo dataset; personal data is made up, on example.com."""

import itertools
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

_seq = itertools.count(1)


def make_subject_data(user, *, n: int = 2, ip_index: int | None = None) -> dict:
    """Rows in every demo dataset that belong to ``user``; returns their identifiers."""
    from demo import models as m

    i = ip_index if ip_index is not None else next(_seq)
    ip = f"10.77.{(i >> 8) & 255}.{i & 255}"
    name = f"{user.first_name} {user.last_name}"
    now = timezone.now()
    m.Profile.objects.create(user=user, job_title="Engineer", company=f"Company {i}", phone="+32 470 000000")
    m.NewsletterSubscription.objects.create(user=user, email=user.email, signup_ip=ip)
    for k in range(n):
        conv = m.SupportConversation.objects.create(
            user=user, email=user.email, customer_name=name, subject="Help", status="closed", closed_at=now
        )
        m.SupportMessage.objects.create(conversation=conv, sender_email=user.email, body=f"Hi, {name} here")
        m.BlogComment.objects.create(
            user=user, author_name=name, author_email=user.email, ip_address=ip, post_slug="p", body="Nice"
        )
        m.TrafficLog.objects.create(user=user, ip_address=ip, path=f"/page/{k}/", user_agent="Firefox")
        order = m.Order.objects.create(
            user=user,
            number=f"O-{i}-{k}",
            billing_name=name,
            billing_address="Street 1",
            product="Plan",
            amount_cents=100,
        )
        m.Invoice.objects.create(
            user=user,
            order=order,
            number=f"I-{i}-{k}",
            billing_company=f"Company {i}",
            billing_address="Street 1",
            amount_cents=100,
            issued_at=now - timedelta(days=k),
        )
        m.DeviceTelemetry.objects.create(
            user=user, device_model="S1", serial_number=f"SN{i}-{k}", software_version="1.0", battery_level=50
        )
    path = default_storage.save(f"demo/uploads/{user.pk}/notes.txt", ContentFile(f"notes of {name}".encode()))
    m.UploadedFile.objects.create(user=user, file=path, original_name="notes.txt", size=10)
    return {"email": user.email, "name": name, "ip": ip, "file": path}


@pytest.fixture
def subject_data():
    return make_subject_data


@pytest.fixture
def officer(db):
    from django.contrib.auth.models import Group

    from tests.factories import UserFactory

    user = UserFactory(is_staff=True, email="officer@example.com")
    user.groups.add(Group.objects.get_or_create(name="Privacy officer")[0])
    return user


@pytest.fixture
def verified_request_for():
    """A verified request of ``kind`` made by the logged-in account holder ``user``."""
    from requests_app.services import create_verified_request

    def make(user, kind="access"):
        return create_verified_request(user=user, kind=kind)

    return make
