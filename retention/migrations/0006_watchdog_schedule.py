"""Schedule the watchdog that resumes exports and erasures whose worker crashed (every five minutes)."""

from django.conf import settings
from django.db import migrations
from django.utils import timezone

NAME = "Registry: resume exports and erasures after a worker crash (every 5 minutes)"
TASK = "registry.resume_stalled_runs"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    if PeriodicTask.objects.filter(task=TASK).exists() or PeriodicTask.objects.filter(name=NAME).exists():
        return
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="*/5", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE
    )
    PeriodicTask.objects.create(
        name=NAME,
        task=TASK,
        crontab=crontab,
        enabled=True,
        args="[]",
        kwargs="{}",
        description="Queues again the exports and erasures still running with no progress for a while: their "
        "worker crashed. Erasures resume from their last finished step; the request's trail says so.",
    )
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("retention", "0005_scheduled_jobs")]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
