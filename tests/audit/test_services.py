"""The audit trail's service and selectors: who, what, old and new values, secrets withheld, append-only."""

import pytest
from django.contrib.contenttypes.models import ContentType

from audit import selectors
from audit.models import ActorKind, AppendOnlyError, AuditEvent
from audit.services import WITHHELD, Actor, mask_email, record_event, redact
from policies.models import PolicyDocument

pytestmark = pytest.mark.django_db


@pytest.fixture
def document():
    return PolicyDocument.objects.create(kind="privacy", title="Privacy policy")


def test_redact_withholds_secrets_at_any_depth_and_keeps_identifiers():
    value = {
        "name": "Shop",
        "key": "shop-eu",  # a public identifier
        "password": "hunter22",
        "status_nonce": "abc",
        "verifier_hash": "f00",
        "nested": {"session_key": "s3ss", "api_token": "t0k", "list": [{"secret": "x", "ok": 1}]},
        "api_key": "k3y",
    }
    assert redact(value) == {
        "name": "Shop",
        "key": "shop-eu",
        "password": WITHHELD,
        "status_nonce": WITHHELD,
        "verifier_hash": WITHHELD,
        "nested": {"session_key": WITHHELD, "api_token": WITHHELD, "list": [{"secret": WITHHELD, "ok": 1}]},
        "api_key": WITHHELD,
    }


def test_record_event_never_stores_a_secret(document, staff_user):
    event = record_event(
        actor=staff_user,
        obj=document,
        verb="changed",
        old={"title": "Old", "password": "hunter22"},
        new={"title": "New", "password": "hunter23"},
    )
    event.refresh_from_db()
    assert event.old == {"title": "Old", "password": WITHHELD} and event.new == {"title": "New", "password": WITHHELD}
    assert "hunter2" not in str(AuditEvent.objects.values_list("old", "new").get(pk=event.pk))


def test_record_event_says_who_what_and_for_which_request(document, staff_user):
    event = record_event(actor=staff_user, obj=document, verb="changed", note="Typo", request_reference="DSR-1")
    assert (event.actor, event.actor_kind, event.actor_label) == (staff_user, ActorKind.STAFF, staff_user.username)
    assert event.content_type == ContentType.objects.get_for_model(PolicyDocument)
    assert (event.object_id, event.object_label) == (str(document.pk), "Privacy policy")
    assert list(selectors.list_object_events(obj=document)) == [event]
    assert list(selectors.list_request_events(reference="DSR-1")) == [event]
    assert list(selectors.list_events(actor_kind=ActorKind.SYSTEM)) == []


def test_actors_name_jobs_and_mask_requesters(document, user_factory):
    job = record_event(actor=Actor.system("retention enforcement"), obj=document, verb="enforced")
    assert (job.actor_kind, job.actor_label, job.actor) == (ActorKind.SYSTEM, "retention enforcement", None)
    by_link = record_event(actor=Actor.requester("wilhelmina@example.com"), obj=document, verb="verified")
    assert (by_link.actor_kind, by_link.actor_label) == (ActorKind.REQUESTER, "w***@example.com")
    holder = user_factory()
    own = record_event(actor=holder, obj=document, verb="accepted")
    assert (own.actor_kind, own.actor) == (ActorKind.REQUESTER, holder)
    assert record_event(actor=None, obj=document, verb="x").actor_kind == ActorKind.SYSTEM
    assert mask_email("not an address") == ""


def test_a_saved_event_is_never_changed_or_deleted(document):
    event = record_event(actor=None, obj=document, verb="changed", new={"title": "New"})
    event.note = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).note == ""
