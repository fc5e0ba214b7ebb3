"""Create the scheduled jobs in django-celery-beat's tables, so staff see and change them in admin.

Existing entries (same name) are left alone: staff may have edited them.
"""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

# (name, task, crontab: minute, hour, description)
SCHEDULES = [
    ("Retention: enforce policies (nightly)", "retention.enforce_retention", "30", "2",
     "Deletes or anonymises rows past their retention period; writes a run report."),
    ("Requests: deadline reminders (hourly)", "requests_app.send_deadline_reminders", "5", "*",
     "Reminds and escalates before request deadlines."),
    ("Requests: expire unverified requests (daily)", "requests_app.expire_unverified_requests", "15", "3",
     "Expires requests never verified; sends the one reminder before expiry."),
    ("Registry: purge expired exports (daily)", "registry.purge_expired_exports", "45", "3",
     "Removes export files whose download link has expired."),
    ("Retention: notify inactive accounts (daily)", "retention.notify_inactive_accounts", "0", "9",
     "Warns inactive accounts and deletes those whose grace period ended without a login."),
    ("Retention: execute due account deletions (hourly)", "retention.execute_due_account_deletions", "20", "*",
     "Erases accounts whose self-service deletion grace period has ended."),
    ("Policies: activate due versions (hourly)", "policies.activate_due_versions", "1", "*",
     "Publishes privacy-policy versions whose effective date has come."),
]


def create_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    for name, task, minute, hour, description in SCHEDULES:
        if PeriodicTask.objects.filter(task=task).exists() or PeriodicTask.objects.filter(name=name).exists():
            continue
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        PeriodicTask.objects.create(
            name=name, task=task, crontab=crontab, enabled=True, description=description, args="[]", kwargs="{}"
        )
    # Tell a running DatabaseScheduler that the schedule changed.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[s[0] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
