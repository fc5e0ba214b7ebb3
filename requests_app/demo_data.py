"""Sample data-subject requests in every state, spread over the past months, for the queue and metrics.

Requesters are made-up addresses not tied to any account, so the demo users (and checks that drive
them) start with no request. Rows are written directly, without mails, in a few bulk inserts.
"""

import random
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from audit.models import ActorKind, AuditEvent
from audit.services import mask_email
from requests_app import services
from requests_app.models import (
    Channel,
    DataRequest,
    DenialReason,
    EventKind,
    Jurisdiction,
    RequestKind,
    RequestStatus,
)

S = RequestStatus
MARKER = "demo-requester-"
NAMES = ["Avery Example", "Blake Sample", "Casey Demo", "Dakota Test", "Emery Example", "Finley Sample"]


def _due(jurisdiction: str, kind: str, received_at):
    return services._compute_dates(jurisdiction=jurisdiction, kind=kind, received_at=received_at)


@transaction.atomic
def seed(*, users: int, stdout) -> None:
    """Create about 40 sample requests once (skipped when they already exist)."""
    if DataRequest.objects.filter(requester_email__startswith=MARKER).exists():
        stdout.write("Requests: demo requests already present.")
        return
    rng = random.Random(4)
    staff = list(get_user_model().objects.filter(is_staff=True).order_by("pk")[:3])
    now = timezone.now()
    plan = [S.COMPLETED] * 18 + [S.DENIED] * 4 + [S.EXPIRED] * 2 + [S.WITHDRAWN] * 2
    plan += [S.IN_PROGRESS] * 5 + [S.VERIFIED] * 3 + [S.AWAITING_REQUESTER] * 2 + [S.AWAITING_VERIFICATION] * 4
    rows = []
    for i, status in enumerate(plan):
        closed = status in (S.COMPLETED, S.DENIED, S.EXPIRED, S.WITHDRAWN)
        age = rng.randint(40, 330) if closed else rng.randint(0, 40)
        received = now - timedelta(days=age, hours=rng.randint(0, 23))
        kind = rng.choice(RequestKind.values)
        jurisdiction = rng.choice(Jurisdiction.values)
        dates = _due(jurisdiction, kind, received)
        verified = (
            received + timedelta(hours=rng.randint(1, 48))
            if status not in (S.AWAITING_VERIFICATION, S.EXPIRED)
            else None
        )
        closed_at = None
        if closed:
            took = rng.randint(2, 14) if status == S.EXPIRED else rng.randint(3, 50)
            closed_at = received + timedelta(days=took if status != S.EXPIRED else 14)
        name = NAMES[i % len(NAMES)]
        rows.append(
            DataRequest(
                reference=f"DSR-{timezone.localtime(received).year}-9{i:05d}",
                kind=kind,
                status=status,
                requester_name=name,
                requester_email=f"{MARKER}{i}@example.com",
                relationship=rng.choice(["customer", "visitor", "employee", "other"]),
                jurisdiction=jurisdiction,
                details="Sample request for the demo.",
                channel=rng.choice([Channel.WEB_FORM, Channel.WEB_FORM, Channel.ACCOUNT, Channel.EMAIL]),
                received_at=received,
                acknowledged_at=received,
                due_at=dates["due_at"],
                original_due_at=dates["due_at"],
                acknowledge_by=dates["acknowledge_by"],
                verified_at=verified,
                closed_at=closed_at,
                assignee=staff[i % len(staff)] if staff and status in (S.IN_PROGRESS, S.AWAITING_REQUESTER) else None,
                assigned_at=verified if staff and status in (S.IN_PROGRESS, S.AWAITING_REQUESTER) else None,
                denial_reason=rng.choice(DenialReason.values) if status == S.DENIED else "",
                denial_text="We could not confirm that this request came from the person concerned."
                if status == S.DENIED
                else "",
                completion_summary="We sent the requested information." if status == S.COMPLETED else "",
                status_nonce=secrets.token_hex(8),
            )
        )
    DataRequest.objects.bulk_create(rows)
    created = DataRequest.objects.filter(requester_email__startswith=MARKER)
    ct = ContentType.objects.get_for_model(DataRequest)

    def event(dr, *, kind: str, label: str, when, old=None, new=None) -> AuditEvent:
        # Written in bulk: the demo's history, in the shape ``services.record_event`` gives it.
        actor_kind = (
            ActorKind.STAFF if label == "staff" else ActorKind.SYSTEM if label == "system" else ActorKind.REQUESTER
        )
        return AuditEvent(
            actor_kind=actor_kind,
            actor_label=mask_email(dr.requester_email) if label == "requester" else label,
            content_type=ct,
            object_id=str(dr.pk),
            object_label=dr.reference,
            verb=kind,
            old=old,
            new=new,
            request_reference=dr.reference,
            created_at=when,
        )

    events = []
    for dr in created:
        events.append(event(dr, kind=EventKind.CREATED, label="requester", when=dr.received_at))
        if dr.verified_at:
            events.append(
                event(
                    dr,
                    kind=EventKind.STATUS,
                    label="requester",
                    old=S.AWAITING_VERIFICATION,
                    new=S.VERIFIED,
                    when=dr.verified_at,
                )
            )
        if dr.closed_at:
            events.append(
                event(
                    dr,
                    kind=EventKind.STATUS,
                    label="system" if dr.status == S.EXPIRED else "staff",
                    old=S.IN_PROGRESS if dr.verified_at else S.AWAITING_VERIFICATION,
                    new=dr.status,
                    when=dr.closed_at,
                )
            )
    AuditEvent.objects.bulk_create(events)
    # The sample requests are bulk-created with back-dated times: counted in full so the metrics page shows them.
    services.summarise_requests(full=True)
    stdout.write(f"Requests: {len(rows)} sample requests in every state.")
