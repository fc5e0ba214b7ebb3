"""Factories and fixtures for the data-subject request tests. Personal data is made up, on example.com."""

import pytest
from django.contrib.auth.models import Group


@pytest.fixture
def make_request(db):
    """Submit a request through the real service; returns the DataRequest."""
    from requests_app.services import submit_request

    counter = {"n": 0}

    def make(**overrides):
        counter["n"] += 1
        n = counter["n"]
        kwargs = {
            "name": f"Requester {n}",
            "email": f"requester{n}@example.com",
            "kind": "access",
            "jurisdiction": "gdpr",
            "relationship": "customer",
            "details": "",
        }
        kwargs.update(overrides)
        data_request, _created = submit_request(**kwargs)
        data_request.refresh_from_db()
        return data_request

    return make


@pytest.fixture
def verified_request(make_request, staff_user):
    from requests_app.services import verify_request

    def make(**overrides):
        return verify_request(data_request=make_request(**overrides), actor=staff_user)

    return make


@pytest.fixture
def privacy_officer(user_factory):
    group, _ = Group.objects.get_or_create(name="Privacy officer")
    user = user_factory(is_staff=True, email="officer@example.com")
    user.groups.add(group)
    return user


@pytest.fixture
def agent(user_factory):
    return user_factory(is_staff=True, email="agent@example.com")
