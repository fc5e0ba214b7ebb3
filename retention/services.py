"""Retention's scheduled jobs and their failure alerts.

Enforcement of policies lives in ``retention.enforcement``; seeding in ``retention.policies``. The account
flows (inactivity notices, self-service deletion) erase, so they live in ``fulfilment.lifecycle``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from audit import services as audit_services
from audit.services import audited_fields
from core import ratelimit
from core.permissions import officer_emails, require_perm
from retention.models import JobEventKind, RetentionPolicy, RetentionRun, RetentionVerb, ScheduledJobEvent

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django_celery_beat.models import PeriodicTask

logger = logging.getLogger(__name__)

FAILURE_ALERT_RATE = "1/h"


# --- job failure alerts ----------------------------------------------------------------


def alert_job_failure(*, task_name: str, error: str, task_id: str = "") -> bool:
    """E-mail the privacy officers that a scheduled job failed; at most one mail per job per hour."""
    recipients = officer_emails()
    if not recipients:
        return False
    if not ratelimit.hit(scope="retention-job-failure", key=task_name, rate=FAILURE_ALERT_RATE):
        return False
    from core.mail import send_templated_mail

    # Sent directly, not via a task: a broken broker or mail task must still raise the alarm, and cannot loop.
    send_templated_mail(
        to=recipients,
        template="mail/retention/job_failed",
        context={
            "task_name": task_name,
            "error": error[:2000],
            "task_id": task_id,
            "admin_url": settings.SITE_URL + "/admin/django_celery_beat/periodictask/",
        },
    )
    return True


# --- scheduled jobs ----------------------------------------------------------------------


def _actor_label(actor: AbstractBaseUser | None) -> str:
    return (getattr(actor, "get_username", lambda: "")() or "") if actor is not None else "system"


@transaction.atomic
def run_scheduled_job(*, job: PeriodicTask, actor: AbstractBaseUser | None) -> ScheduledJobEvent:
    """Queue one of the portal's scheduled jobs now (its task calls the job's service), with an audit row.

    The job runs with no arguments and on the default queue, whatever its schedule entry says: staff
    choose which job and when, never what it runs.
    """
    from privacyportal.celery import SCHEDULED_JOBS, app

    require_perm(actor, "retention.run_scheduledjob", _("You may not run scheduled jobs."))
    if job.task not in SCHEDULED_JOBS:
        raise ValidationError(_("Only the portal's scheduled jobs can be run from here."), code="not_a_job")
    app.loader.import_default_modules()
    task = app.tasks[job.task]
    event = ScheduledJobEvent.objects.create(
        task=job.task,
        schedule_name=job.name,
        kind=JobEventKind.RUN_NOW,
        actor=actor,
        actor_label=_actor_label(actor),
        note=_("Started by hand, outside its schedule."),
    )
    audit_services.record_event(actor=actor, obj=job, verb=JobEventKind.RUN_NOW, note=event.note)
    transaction.on_commit(lambda: task.delay())
    return event


def ensure_scheduled_jobs() -> list[str]:
    """Give every scheduled job that has no schedule entry its default one; returns the tasks added.

    Runs after every ``migrate``, so a job added in a release is scheduled on upgrade, and the
    database scheduler never lacks one of the portal's jobs. Entries staff changed are left alone.
    """
    from django_celery_beat.models import CrontabSchedule, PeriodicTask, PeriodicTasks

    from privacyportal.celery import SCHEDULED_JOBS
    from retention.schedules import DEFAULT_SCHEDULES

    added = []
    for default in DEFAULT_SCHEDULES:
        if default.task not in SCHEDULED_JOBS:
            continue
        if PeriodicTask.objects.filter(Q(task=default.task) | Q(name=default.name)).exists():
            continue
        crontab, _created = CrontabSchedule.objects.get_or_create(
            minute=default.minute,
            hour=default.hour,
            day_of_week="*",
            day_of_month=default.day_of_month,
            month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        PeriodicTask.objects.create(
            name=default.name,
            task=default.task,
            crontab=crontab,
            enabled=True,
            description=default.description,
            args="[]",
            kwargs="{}",
        )
        added.append(default.task)
    if added:
        PeriodicTasks.update_changed()  # tells a running beat to reload its schedule
    return added


def record_schedule_change(
    *, job: PeriodicTask, actor: AbstractBaseUser | None, old: dict, new: dict
) -> ScheduledJobEvent | None:
    """Log a staff change to a job's schedule (enabled, timing); nothing when nothing changed."""
    changed = {k for k in new if old.get(k) != new.get(k)}
    if not changed:
        return None
    audit_services.record_event(
        actor=actor,
        obj=job,
        verb=JobEventKind.SCHEDULE_CHANGED,
        old={k: old.get(k) for k in sorted(changed)},
        new={k: new.get(k) for k in sorted(changed)},
    )
    return ScheduledJobEvent.objects.create(
        task=job.task,
        schedule_name=job.name,
        kind=JobEventKind.SCHEDULE_CHANGED,
        actor=actor,
        actor_label=_actor_label(actor),
        old="; ".join(f"{k}: {old.get(k)}" for k in sorted(changed)),
        new="; ".join(f"{k}: {new.get(k)}" for k in sorted(changed)),
    )


# --- dataset retention policies and runs -------------------------------------------------


# What staff edit on a policy; ``customised`` and the timestamps follow from the edit.
POLICY_FIELDS = audited_fields(RetentionPolicy, exclude=("customised", "source"))


@transaction.atomic
def save_retention_policy(*, policy: RetentionPolicy, actor: AbstractBaseUser | None) -> RetentionPolicy:
    """Save a retention policy as staff edited it, with the old and new values; an edited seeded one stays so."""
    stored = RetentionPolicy.objects.filter(pk=policy.pk).first() if policy.pk is not None else None
    before = audit_services.snapshot(stored, POLICY_FIELDS) if stored is not None else None
    after = audit_services.snapshot(policy, POLICY_FIELDS)
    if before is None:
        policy.save()
        audit_services.record_event(actor=actor, obj=policy, verb=RetentionVerb.CREATED, new=after)
        return policy
    old, new = audit_services.changes(before, after)
    if not new:
        return policy
    # A staff edit of a seeded policy is kept when the registry's rules are seeded again.
    policy.customised = True
    policy.save()
    audit_services.record_event(actor=actor, obj=policy, verb=RetentionVerb.CHANGED, old=old, new=new)
    return policy


@transaction.atomic
def delete_retention_policy(*, policy: RetentionPolicy, actor: AbstractBaseUser | None) -> None:
    """Delete a retention policy; the trail keeps what it said."""
    audit_services.record_event(
        actor=actor,
        obj=policy,
        verb=RetentionVerb.DELETED,
        old=audit_services.snapshot(policy, POLICY_FIELDS),
    )
    policy.delete()


@transaction.atomic
def switch_scheduled_jobs(*, jobs, actor, enabled: bool | None) -> int:
    """Enable or disable scheduled jobs (``enabled=None`` flips each); every change is recorded with its actor."""
    switched = 0
    # Locked by primary key: the admin's queryset joins the nullable schedules, which cannot be locked.
    pks = list(jobs.values_list("pk", flat=True))
    for job in jobs.model.objects.select_for_update().filter(pk__in=pks).order_by("pk"):
        new = (not job.enabled) if enabled is None else enabled
        if new == job.enabled:
            continue
        job.enabled = new
        job.save(update_fields=["enabled"])  # saving (not updating) tells a running beat to reload
        record_schedule_change(job=job, actor=actor, old={"enabled": not new}, new={"enabled": new})
        switched += 1
    return switched


# --- running one policy by hand ---------------------------------------------------------


class PolicyRunRefused(ValidationError):
    """A run by hand that could not start (another run holds the lock); nothing was changed."""


def run_retention_policy(*, policy: RetentionPolicy, dry_run: bool, actor: AbstractBaseUser | None) -> RetentionRun:
    """Dry-run (count only) or enforce one policy now; returns the run report. Refused politely when locked."""
    from retention.enforcement import RunLocked, enforce_retention

    if dry_run:
        require_perm(actor, "retention.view_retentionpolicy", _("You may not look at retention policies."))
    else:
        require_perm(actor, "retention.change_retentionpolicy", _("You may not run retention policies."))
    if not dry_run and not policy.enabled:
        raise ValidationError(_("This policy is switched off: switch it on before running it."), code="disabled")
    try:
        return enforce_retention(dry_run=dry_run, policy_name=policy.name, trigger="admin")
    except RunLocked:
        raise PolicyRunRefused(
            _(
                "Another retention run is under way, so this one did not start and nothing changed. Try again in a few minutes."
            ),
            code="locked",
        ) from None
