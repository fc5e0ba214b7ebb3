"""Move the request trail into the portal's one audit trail (``audit.AuditEvent``), losing nothing.

Each ``RequestEvent`` becomes an event about its request, under the request's reference, with the same
time, actor, verb, values and note; the old rows are removed once copied. Going back copies them back.
"""

from django.db import migrations, models
import django.db.models.deletion

BATCH = 2000


def _mask(email):
    local, sep, domain = (email or "").strip().partition("@")
    return f"{local[:1]}***@{domain}"[:200] if sep else ""


def _actor_kind(event):
    if event.actor_id is not None:
        return "staff" if event.actor.is_staff else "requester"
    return "requester" if event.actor_label == "requester" else "system"


def forwards(apps, schema_editor):
    RequestEvent = apps.get_model("requests_app", "RequestEvent")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    ct, _created = ContentType.objects.get_or_create(app_label="requests_app", model="datarequest")
    last = 0
    while True:
        rows = list(
            RequestEvent.objects.filter(pk__gt=last).select_related("data_request", "actor").order_by("pk")[:BATCH]
        )
        if not rows:
            break
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    created_at=e.created_at,
                    actor_kind=_actor_kind(e),
                    actor_id=e.actor_id,
                    actor_label=(
                        _mask(e.data_request.requester_email) or "requester"
                        if e.actor_id is None and e.actor_label == "requester"
                        else e.actor_label
                    ),
                    content_type=ct,
                    object_id=str(e.data_request_id),
                    object_label=e.data_request.reference[:200],
                    verb=e.kind[:40],
                    note=e.note,
                    old=e.old if e.old != "" else None,
                    new=e.new if e.new != "" else None,
                    request_reference=e.data_request.reference[:32],
                )
                for e in rows
            ]
        )
        last = rows[-1].pk
        RequestEvent.objects.filter(pk__in=[e.pk for e in rows]).delete()


def backwards(apps, schema_editor):
    RequestEvent = apps.get_model("requests_app", "RequestEvent")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    DataRequest = apps.get_model("requests_app", "DataRequest")
    ContentType = apps.get_model("contenttypes", "ContentType")
    ct = ContentType.objects.filter(app_label="requests_app", model="datarequest").first()
    if ct is None:
        return
    events = AuditEvent.objects.filter(content_type=ct).order_by("created_at", "pk")
    known = set(DataRequest.objects.values_list("pk", flat=True))
    RequestEvent.objects.bulk_create(
        [
            RequestEvent(
                data_request_id=int(e.object_id),
                created_at=e.created_at,
                actor_id=e.actor_id,
                actor_label=("requester" if e.actor_kind == "requester" and e.actor_id is None else e.actor_label),
                kind=e.verb[:32],
                old="" if e.old is None else str(e.old)[:200],
                new="" if e.new is None else str(e.new)[:200],
                note=e.note,
            )
            for e in events.iterator()
            if e.object_id.isdigit() and int(e.object_id) in known
        ],
        batch_size=BATCH,
    )
    events.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("requests_app", "0005_release_approval"),
    ]

    operations = [
        migrations.AlterField(
            model_name="requestevent",
            name="data_request",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="legacy_events",
                to="requests_app.datarequest",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
