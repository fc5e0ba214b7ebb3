"""Account lifecycle: inactivity notices and self-service account deletion.

Both end in an erasure through the fulfilment engine, so they live here rather than in ``retention``,
which only says how long the inactive-accounts policy waits.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from audit import services as audit_services
from audit.models import ActorKind
from audit.services import Actor
from fulfilment.models import AccountDeletion, DeletionStatus, ErasureRun, InactiveAccountNotice, NoticeStatus
from fulfilment.services import approve_erasure, execute_erasure, preview_erasure
from registry.selectors import hold_scope
from requests_app.services import create_verified_request
from retention import rules
from retention.models import RetentionAction, RetentionPolicy
from retention.selectors import inactive_accounts_policy_name
from retention.services import alert_job_failure

if TYPE_CHECKING:
    from datetime import datetime

    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser
    from django.db import models

    from requests_app.models import DataRequest

logger = logging.getLogger(__name__)


# The account holder acting for themselves, by role: the trail must not keep the name of an account it erases.
HOLDER = Actor(kind=ActorKind.REQUESTER, label="account holder")
NOTICES_JOB = Actor.system("notify_inactive_accounts")
DELETIONS_JOB = Actor.system("execute_due_account_deletions")


def _audit(
    obj: models.Model,
    *,
    verb: str,
    actor: Actor,
    old: object = None,
    new: object = None,
    note: str = "",
    reference: str = "",
) -> None:
    audit_services.record_event(
        actor=actor, obj=obj, verb=verb, old=old, new=new, note=note, request_reference=reference
    )


def _queue_mail(**kwargs: object) -> None:
    from core.tasks import send_templated_mail_task

    transaction.on_commit(lambda: send_templated_mail_task.delay(**kwargs))


def _is_held(user: AbstractBaseUser, *, now: datetime) -> bool:
    return hold_scope(now=now).holds_subject(user_id=user.pk, email=user.email or "")


def _erase_account(
    *,
    user: AbstractBaseUser,
    details: str,
    data_request: DataRequest = None,
    self_service: bool = False,
    notice: InactiveAccountNotice | None = None,
    now: datetime | None = None,
) -> str:
    """Erase an account through the registry (every dataset, per-field strategies); returns the request reference.

    ``self_service``: the holder asked for their own account's deletion (and confirmed it with their
    password), so the registry's audited self-service approval applies. Otherwise the inactive-account
    policy decided it after ``notice`` ran out, and the registry records the policy as the approver.
    """
    if data_request is None:
        data_request = create_verified_request(user=user, kind="erasure", details=details)
    # Refresh the preview now (data changed during the grace period); an erasure already approved is left as is.
    erasure = preview_erasure(data_request=data_request)
    if notice is not None and notice.data_request_id != data_request.pk:
        notice.data_request_id = data_request.pk
        notice.save(update_fields=["data_request_id"])
    if erasure.state == ErasureRun.State.PREVIEWED:
        if self_service:
            approve_erasure(data_request=data_request, actor=user, self_service=True, queue=False, now=now)
        else:
            approve_erasure(data_request=data_request, policy=inactive_accounts_policy_name(), queue=False, now=now)
    execute_erasure(data_request=data_request)
    # The registry keeps what the law needs; the login itself must not survive an account deletion.
    User = get_user_model()
    leftover = User.objects.filter(pk=user.pk).first()
    if leftover is not None and leftover.is_active:
        leftover.is_active = False
        leftover.set_unusable_password()
        leftover.save(update_fields=["is_active", "password"])
    return data_request.reference


# --- inactive accounts ----------------------------------------------------------------


def _inactive_period() -> tuple[int, str] | None:
    """(period, unit) of the ``inactive-accounts`` policy (editable in admin), the settings without one; None if off."""
    policy = RetentionPolicy.objects.filter(action=RetentionAction.ACCOUNT_FLOW).order_by("pk").first()
    if policy is None:
        return settings.INACTIVE_ACCOUNT_WARNING_MONTHS, rules.MONTHS
    if not policy.enabled:
        return None
    return policy.period, policy.period_unit


def inactive_cutoff(*, now: datetime | None) -> datetime | None:
    """Accounts with no login since this instant are inactive; None when staff disabled the policy."""
    period = _inactive_period()
    if period is None:
        return None
    return rules.cutoff(now=now, period=period[0], unit=period[1], tz=ZoneInfo(settings.TIME_ZONE))


def _human_date(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "j F Y")


def notify_inactive_accounts(*, now: datetime | None = None) -> dict:
    """Warn accounts inactive past the period; delete warned accounts whose grace ended without a login."""
    now = now or timezone.now()
    User = get_user_model()
    limit = inactive_cutoff(now=now)
    if limit is None:
        return {"warned": 0, "deleted": 0, "kept_for_hold": 0, "cancelled": 0, "disabled": True}
    open_notice_users = InactiveAccountNotice.objects.filter(status=NoticeStatus.WARNED).values("user_id")
    candidates = (
        User.objects.filter(is_active=True, is_staff=False, is_superuser=False)
        .filter(Q(last_login__lt=limit) | Q(last_login__isnull=True, date_joined__lt=limit))
        .exclude(pk__in=open_notice_users)
        .order_by("pk")
    )
    warned = 0
    for user in candidates.iterator(chunk_size=500):
        if _is_held(user, now=now):  # not deletable while held: a warning would be untrue
            continue
        warn_inactive_account(user=user, now=now)
        warned += 1
    deleted = kept = cancelled = failed = 0
    due = InactiveAccountNotice.objects.filter(status=NoticeStatus.WARNED, delete_after__lte=now).select_related("user")
    for notice in due:
        # One account that cannot be erased must not keep every later one past its promised deletion:
        # it stays warned (tried again at the next run) and the privacy officers are told.
        try:
            with transaction.atomic():
                result = close_inactive_notice(notice=notice, now=now)
        except Exception as exc:
            logger.exception("Closing inactive-account notice %s failed", notice.pk)
            failed += 1
            alert_job_failure(
                task_name="retention.notify_inactive_accounts",
                error=f"Inactive account {notice.user_id}: {type(exc).__name__}: {exc}",
            )
            continue
        deleted += result == NoticeStatus.DELETED
        kept += result == NoticeStatus.HELD
        cancelled += result == NoticeStatus.CANCELLED
    return {"warned": warned, "deleted": deleted, "kept_for_hold": kept, "cancelled": cancelled, "failed": failed}


@transaction.atomic
def warn_inactive_account(*, user: AbstractBaseUser, now: datetime) -> InactiveAccountNotice:
    """Record the warning and mail the account holder (a service message)."""
    period, unit = _inactive_period() or (settings.INACTIVE_ACCOUNT_WARNING_MONTHS, rules.MONTHS)
    notice = InactiveAccountNotice.objects.create(
        user=user,
        last_login_at_warning=user.last_login,
        warned_at=now,
        delete_after=now + timedelta(days=settings.INACTIVE_ACCOUNT_GRACE_DAYS),
    )
    _audit(notice, verb="inactivity_warned", actor=NOTICES_JOB, new=NoticeStatus.WARNED)
    _queue_mail(
        to=[user.email],
        template="mail/retention/inactive_warning",
        context={
            "delete_after": _human_date(notice.delete_after),
            "grace_days": settings.INACTIVE_ACCOUNT_GRACE_DAYS,
            "inactive_for": RetentionPolicy(period=period, period_unit=unit).period_display,
            "login_url": settings.SITE_URL + reverse("account_login"),
        },
    )
    return notice


def close_inactive_notice(*, notice: InactiveAccountNotice, now: datetime) -> str:
    """At the end of the grace period: cancel if the user logged in, keep if held, else erase the account."""
    user = notice.user
    if user is None:
        notice.status, notice.closed_at = NoticeStatus.DELETED, now
    elif user.last_login and user.last_login > notice.warned_at:
        notice.status, notice.closed_at = NoticeStatus.CANCELLED, now
    elif _is_held(user, now=now):
        notice.status, notice.closed_at = NoticeStatus.HELD, now
    else:
        with transaction.atomic():
            _erase_account(
                user=user,
                details=_(
                    "Account inactive for %(months)s months; deleted after a warning, under the retention policy."
                )
                % {"months": settings.INACTIVE_ACCOUNT_WARNING_MONTHS},
                notice=notice,
                now=now,
            )
        notice.status, notice.closed_at = NoticeStatus.DELETED, now
    notice.save(update_fields=["status", "closed_at"])
    _audit(notice, verb="inactivity_closed", actor=NOTICES_JOB, old=NoticeStatus.WARNED, new=notice.status)
    return notice.status


@transaction.atomic
def cancel_inactivity_notices(*, user: AbstractBaseUser, now: datetime | None = None) -> int:
    """A login proves the account is in use: cancel its open inactivity warnings."""
    notices = list(InactiveAccountNotice.objects.select_for_update().filter(user=user, status=NoticeStatus.WARNED))
    for notice in notices:
        notice.status, notice.closed_at = NoticeStatus.CANCELLED, now or timezone.now()
        notice.save(update_fields=["status", "closed_at"])
        _audit(
            notice,
            verb="inactivity_closed",
            actor=HOLDER,
            old=NoticeStatus.WARNED,
            new=NoticeStatus.CANCELLED,
            note=_("The account holder logged in."),
        )
    return len(notices)


# --- self-service account deletion -------------------------------------------------------


def pending_deletion(*, user: AbstractBaseUser | AnonymousUser) -> AccountDeletion | None:
    """The account's scheduled deletion, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return AccountDeletion.objects.filter(user=user, status=DeletionStatus.SCHEDULED).first()


@transaction.atomic
def request_account_deletion(*, user: AbstractBaseUser, now: datetime | None = None) -> AccountDeletion:
    """Open a verified erasure request for one's own account, executed after the grace period."""
    now = now or timezone.now()
    existing = pending_deletion(user=user)
    if existing is not None:
        return existing

    data_request = create_verified_request(
        user=user,
        kind="erasure",
        details=_("Account deletion requested by the account holder; executed after a %(days)s-day grace period.")
        % {"days": settings.ACCOUNT_DELETION_GRACE_DAYS},
    )
    deletion = AccountDeletion.objects.create(
        user=user,
        data_request_id=data_request.pk,
        request_reference=data_request.reference,
        requested_at=now,
        execute_after=now + timedelta(days=settings.ACCOUNT_DELETION_GRACE_DAYS),
    )
    _audit(
        deletion,
        verb="deletion_scheduled",
        actor=HOLDER,
        new=DeletionStatus.SCHEDULED,
        reference=data_request.reference,
    )
    _queue_mail(
        to=[user.email],
        template="mail/retention/deletion_scheduled",
        context={
            "reference": data_request.reference,
            "execute_after": _human_date(deletion.execute_after),
            "grace_days": settings.ACCOUNT_DELETION_GRACE_DAYS,
            "cancel_url": settings.SITE_URL + reverse("fulfilment:cancel_deletion"),
        },
    )
    return deletion


@transaction.atomic
def cancel_account_deletion(*, user: AbstractBaseUser, now: datetime | None = None) -> AccountDeletion:
    """Cancel one's own scheduled deletion during the grace period; the erasure request is withdrawn."""
    deletion = AccountDeletion.objects.select_for_update().filter(user=user, status=DeletionStatus.SCHEDULED).first()
    if deletion is None:
        raise ValidationError(_("There is no account deletion to cancel."), code="none")
    deletion.status = DeletionStatus.CANCELLED
    deletion.closed_at = now or timezone.now()
    deletion.save(update_fields=["status", "closed_at"])
    _audit(
        deletion,
        verb="deletion_cancelled",
        actor=HOLDER,
        old=DeletionStatus.SCHEDULED,
        new=DeletionStatus.CANCELLED,
        reference=deletion.request_reference,
    )
    data_request = _data_request(deletion)
    if data_request is not None:
        from requests_app.services import withdraw_request

        withdraw_request(data_request=data_request, actor=user)
    return deletion


def _data_request(deletion: AccountDeletion) -> DataRequest | None:
    from requests_app.models import DataRequest

    return DataRequest.objects.filter(pk=deletion.data_request_id).first()


def execute_due_account_deletions(*, now: datetime | None = None) -> dict:
    """Erase the accounts whose deletion grace period has ended (no officer approval needed for one's own account)."""
    now = now or timezone.now()
    done = failed = 0
    due = AccountDeletion.objects.filter(status=DeletionStatus.SCHEDULED, execute_after__lte=now).values_list(
        "pk", flat=True
    )
    for pk in list(due):
        if execute_account_deletion(deletion_id=pk, now=now):
            done += 1
        else:
            failed += 1
    return {"executed": done, "failed": failed}


def execute_account_deletion(*, deletion_id: int, now: datetime | None = None) -> bool:
    """Run one due deletion's erasure; True when the account is gone."""
    now = now or timezone.now()
    with transaction.atomic():
        deletion = (
            AccountDeletion.objects.select_for_update(skip_locked=True)
            .filter(pk=deletion_id, status=DeletionStatus.SCHEDULED)
            .first()
        )
        if deletion is None:
            return False
        try:
            with transaction.atomic():
                if deletion.user is not None:
                    _erase_account(
                        user=deletion.user,
                        details="",
                        data_request=_data_request(deletion),
                        self_service=True,
                        now=now,
                    )
        except Exception as exc:
            logger.exception("Account deletion %s failed", deletion.pk)
            deletion.status = DeletionStatus.FAILED
            deletion.error = f"{type(exc).__name__}: {exc}"
            deletion.closed_at = now
            deletion.save(update_fields=["status", "error", "closed_at"])
            _audit(
                deletion,
                verb="deletion_failed",
                actor=DELETIONS_JOB,
                old=DeletionStatus.SCHEDULED,
                new=DeletionStatus.FAILED,
                note=deletion.error[:500],
                reference=deletion.request_reference,
            )
            # The job itself succeeds, so no task failure would raise the alarm: an account stays undeleted.
            reference = deletion.request_reference or deletion.pk
            transaction.on_commit(
                lambda: alert_job_failure(
                    task_name="retention.execute_due_account_deletions",
                    error=f"Account deletion {reference} failed: {deletion.error}",
                )
            )
            return False
        deletion.status = DeletionStatus.EXECUTED
        deletion.closed_at = now
        deletion.save(update_fields=["status", "closed_at"])
        _audit(
            deletion,
            verb="deletion_executed",
            actor=DELETIONS_JOB,
            old=DeletionStatus.SCHEDULED,
            new=DeletionStatus.EXECUTED,
            reference=deletion.request_reference,
        )
    return True
