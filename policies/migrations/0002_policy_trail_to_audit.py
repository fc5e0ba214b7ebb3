"""Move policy versions' trail into the portal's one audit trail (``audit.AuditEvent``), losing nothing."""

import django.db.models.deletion
from django.db import migrations, models

BATCH = 2000


def forwards(apps, schema_editor):
    PolicyEvent = apps.get_model("policies", "PolicyEvent")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    ct, _created = ContentType.objects.get_or_create(app_label="policies", model="policyversion")
    last = 0
    while True:
        rows = list(
            PolicyEvent.objects.filter(pk__gt=last).select_related("version__document", "actor").order_by("pk")[:BATCH]
        )
        if not rows:
            break
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    created_at=e.created_at,
                    actor_kind=("staff" if e.actor.is_staff else "requester") if e.actor_id else "system",
                    actor_id=e.actor_id,
                    actor_label=e.actor.username[:200] if e.actor_id else "policy schedule",
                    content_type=ct,
                    object_id=str(e.version_id),
                    object_label=f"{e.version.document.title} v{e.version.number}"[:200],
                    verb=e.kind,
                    note=e.note,
                    old=e.old_status or None,
                    new=e.new_status or None,
                )
                for e in rows
            ]
        )
        last = rows[-1].pk
        PolicyEvent.objects.filter(pk__in=[e.pk for e in rows]).delete()


def backwards(apps, schema_editor):
    PolicyEvent = apps.get_model("policies", "PolicyEvent")
    PolicyVersion = apps.get_model("policies", "PolicyVersion")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    ct = ContentType.objects.filter(app_label="policies", model="policyversion").first()
    if ct is None:
        return
    events = AuditEvent.objects.filter(content_type=ct).order_by("created_at", "pk")
    known = set(PolicyVersion.objects.values_list("pk", flat=True))
    for e in events.iterator():
        if e.object_id.isdigit() and int(e.object_id) in known:
            row = PolicyEvent.objects.create(
                version_id=int(e.object_id),
                actor_id=e.actor_id,
                kind=e.verb[:20],
                old_status=e.old if isinstance(e.old, str) else "",
                new_status=e.new if isinstance(e.new, str) else "",
                note=e.note,
            )
            PolicyEvent.objects.filter(pk=row.pk).update(created_at=e.created_at)
    events.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("policies", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="policyevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Created"),
                    ("edited", "Edited"),
                    ("scheduled", "Scheduled"),
                    ("in_force", "Came into force"),
                    ("superseded", "Superseded"),
                    ("unscheduled", "Back to draft"),
                    ("deleted", "Draft deleted"),
                    ("notice_queued", "Change notice queued"),
                    ("notice_done", "Change notice sent"),
                    ("accepted", "Accepted"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="policyevent",
            name="version",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="legacy_events", to="policies.policyversion"
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
