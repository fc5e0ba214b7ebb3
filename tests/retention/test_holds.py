"""Retention and legal holds on data a delete reaches through cascades: skipped, counted as held, never lost."""

from datetime import timedelta

import pytest
from django.utils import timezone

from registry.models import LegalHold
from retention.enforcement import enforce_retention
from retention.models import ItemStatus, RunStatus


@pytest.fixture
def closed_conversations(db):
    """Support conversations closed long ago: one with a message, one with a message from another person, one empty."""
    from demo.models import SupportConversation, SupportMessage

    closed = timezone.now() - timedelta(days=800)

    def conversation(email, *senders):
        conv = SupportConversation.objects.create(email=email, subject="Old", status="closed", closed_at=closed)
        for sender in senders:
            SupportMessage.objects.create(conversation=conv, sender_email=sender, body="Hello")
        return conv

    return {
        "with_message": conversation("ada@example.com", "ada@example.com"),
        "with_witness": conversation("bert@example.com", "bert@example.com", "witness@example.com"),
        "empty": conversation("carla@example.com"),
    }


def _ids():
    from demo.models import SupportConversation, SupportMessage

    return set(SupportConversation.objects.values_list("pk", flat=True)), SupportMessage.objects.count()


def test_hold_on_messages_skips_the_conversations_holding_them(closed_conversations):
    LegalHold.objects.create(dataset="demo.SupportMessage", reason="Consumer court case 9")

    dry = enforce_retention(dry_run=True, policy_name="support-closed").items.get()
    assert (dry.matched, dry.deleted, dry.skipped_hold) == (3, 1, 2)

    run = enforce_retention(policy_name="support-closed")
    assert run.status == RunStatus.COMPLETED
    item = run.items.get()
    assert item.status == ItemStatus.DONE
    assert (item.matched, item.deleted, item.skipped_hold) == (3, 1, 2)
    conversations, messages = _ids()
    assert conversations == {closed_conversations["with_message"].pk, closed_conversations["with_witness"].pk}
    assert messages == 3


def test_hold_on_a_subject_skips_the_conversation_holding_their_message(closed_conversations):
    LegalHold.objects.create(email="Witness@example.com", reason="Witness in a dispute")

    item = enforce_retention(policy_name="support-closed").items.get()

    assert (item.matched, item.deleted, item.skipped_hold) == (3, 2, 1)
    conversations, messages = _ids()
    assert conversations == {closed_conversations["with_witness"].pk}
    assert messages == 2


def test_hold_on_request_messages_keeps_closed_requests_they_belong_to(user_factory):
    from requests_app.models import DataRequest, RequestMessage
    from requests_app.services import create_verified_request, post_message, withdraw_request

    kept = create_verified_request(user=user_factory(), kind="access")
    post_message(data_request=kept, body="Please hurry.", from_staff=False)
    gone = create_verified_request(user=user_factory(), kind="access")
    for data_request in (kept, gone):
        withdraw_request(data_request=data_request, actor="requester")
    DataRequest.objects.update(closed_at=timezone.now() - timedelta(days=800))
    LegalHold.objects.create(dataset="requests_app.RequestMessage", reason="Complaint to the regulator")

    item = enforce_retention(policy_name="closed-requests").items.get()

    assert (item.deleted, item.skipped_hold) == (1, 1)
    assert set(DataRequest.objects.values_list("pk", flat=True)) == {kept.pk}
    assert RequestMessage.objects.filter(data_request=kept).count() == 1


def test_a_batch_that_would_still_reach_held_rows_fails_and_deletes_nothing(closed_conversations, monkeypatch):
    """The collector's last check, should the relation walk ever miss a path."""
    from retention import registry_bridge

    LegalHold.objects.create(dataset="demo.SupportMessage", reason="Held")
    monkeypatch.setattr(registry_bridge, "cascade_hold_q", lambda model, held_for: None)

    run = enforce_retention(policy_name="support-closed")

    item = run.items.get()
    assert run.status == RunStatus.FAILED and item.status == ItemStatus.FAILED
    assert "legal hold" in item.errors and "demo.SupportMessage" in item.errors
    assert _ids() == ({c.pk for c in closed_conversations.values()}, 3)
