"""Restriction, objection and legal-hold services."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from fulfilment import services as fulfilment_services
from registry import selectors, services


@pytest.mark.smoke
@pytest.mark.django_db
def test_restriction_allows_only_storage_and_objection_only_blocks_its_purposes(user_factory):
    alice, bob = user_factory(), user_factory()
    fulfilment_services.restrict_processing(user=alice, kind="restriction")
    fulfilment_services.restrict_processing(email=bob.email.upper(), kind="objection", purposes=["marketing"])
    assert not selectors.is_processing_allowed(user=alice, purpose="marketing")
    assert not selectors.is_processing_allowed(email=alice.email, purpose="third_party_sharing")
    assert selectors.is_processing_allowed(user=alice, purpose="storage")
    assert not selectors.is_processing_allowed(user=bob, purpose="marketing")
    assert selectors.is_processing_allowed(user=bob, purpose="research")
    assert selectors.is_processing_allowed(email="nobody@example.com", purpose="marketing")


@pytest.mark.django_db
def test_requester_is_told_before_a_restriction_is_lifted(user_factory, mailoutbox, django_capture_on_commit_callbacks):
    user = user_factory()
    restriction = fulfilment_services.restrict_processing(user=user, kind="restriction")
    with pytest.raises(ValidationError):
        fulfilment_services.lift_restriction(restriction=restriction, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment_services.notify_restriction_lift(restriction=restriction, actor=None)
    assert [m.to for m in mailoutbox] == [[user.email]]
    fulfilment_services.lift_restriction(restriction=restriction, actor=None)
    assert selectors.is_processing_allowed(user=user, purpose="marketing")


@pytest.mark.django_db
def test_verified_objection_request_applies_objection(user_factory, django_capture_on_commit_callbacks):
    from requests_app.services import create_verified_request

    user = user_factory()
    with django_capture_on_commit_callbacks(execute=True):
        create_verified_request(user=user, kind="objection")
    assert not selectors.is_processing_allowed(user=user, purpose="marketing")


@pytest.mark.django_db
def test_hold_selectors_follow_end_dates_and_release(user_factory):
    user = user_factory()
    now = timezone.now()
    services.place_legal_hold(reason="Audit", dataset="demo.TrafficLog", ends_at=now + timedelta(days=1))
    services.place_legal_hold(reason="Old", dataset="demo.Order", ends_at=now - timedelta(days=1))
    hold = services.place_legal_hold(reason="Claim", user=user, email="Claimant@example.com")
    now = timezone.now()
    assert selectors.held_dataset_labels(now=now) == {"demo.TrafficLog"}
    assert selectors.held_subjects(now=now) == ({user.pk}, {"claimant@example.com"})
    services.release_legal_hold(hold=hold)
    assert selectors.held_subjects() == (set(), set())
    with pytest.raises(ValidationError):
        services.place_legal_hold(reason="x", dataset="nope.Model")


@pytest.mark.django_db
def test_lifting_a_requested_restriction_is_in_the_requests_audit_trail(
    user_factory, staff_user, django_capture_on_commit_callbacks
):
    from registry.models import ProcessingRestriction
    from requests_app.services import create_verified_request

    user = user_factory()
    with django_capture_on_commit_callbacks(execute=True):
        data_request = create_verified_request(user=user, kind="restriction")
    restriction = ProcessingRestriction.objects.get(request_reference=data_request.reference)
    fulfilment_services.notify_restriction_lift(restriction=restriction, actor=staff_user)
    fulfilment_services.lift_restriction(restriction=restriction, actor=staff_user)
    events = list(data_request.events.filter(verb__startswith="restriction_").values_list("new", "actor_id"))
    assert ("notified", staff_user.pk) in events and ("lifted", staff_user.pk) in events
