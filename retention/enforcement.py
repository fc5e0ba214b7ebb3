"""Retention enforcement: every enabled policy, in keyset batches, resumable, one run at a time.

Each batch is one transaction that acts on at most ``settings.RETENTION_BATCH_SIZE``
rows and saves the run's checkpoint (the last primary key done) with it, so a
crash loses at most the batch in flight and the next run resumes where this one
stopped, without counting anything twice.
"""

import logging
import time
import traceback
import uuid
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from zoneinfo import ZoneInfo

from celery.exceptions import SoftTimeLimitExceeded
from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models, transaction
from django.db.models import Q
from django.db.models.deletion import Collector
from django.db.models.expressions import RawSQL
from django.db.models.sql.subqueries import DeleteQuery
from django.utils import timezone

from audit.services import Actor, record_event
from core.retention_actions import ENFORCEABLE
from retention import registry_bridge, rules
from retention.locks import LockLost, enforcement_lock
from retention.models import (
    ItemStatus,
    RetentionAction,
    RetentionPolicy,
    RetentionRun,
    RetentionRunItem,
    RetentionVerb,
    RunStatus,
)
from systems.engine import SystemUnavailable
from systems.models import ExternalSystem, SystemDataset, SystemRetentionRule
from systems.operations import Identities, enforce_retention_rule
from systems.selectors import list_retention_rules

logger = logging.getLogger(__name__)

Progress = Callable[[RetentionRunItem, int, int], None]


class RunLocked(Exception):
    """Another enforcement run holds the lock."""


def resolve_field(model, path: str) -> models.Field:
    """The field at the end of a ``__`` path, following relations."""
    field = None
    current = model
    for part in path.split("__"):
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            raise ValueError(f"{model._meta.label} has no field path {path!r}")
        if field.is_relation and field.related_model is not None:
            current = field.related_model
    return field


def policy_cutoff(policy: RetentionPolicy, *, now):
    """The policy's cut-off instant at ``now`` in the organisation's time zone."""
    return rules.cutoff(now=now, period=policy.period, unit=policy.period_unit, tz=ZoneInfo(settings.TIME_ZONE))


def matching_queryset(policy: RetentionPolicy, *, cutoff):
    """Rows past the policy's period that still need its action."""
    model = apps.get_model(policy.dataset)
    field = resolve_field(model, policy.date_field)
    bound = cutoff
    if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
        bound = cutoff.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    qs = model._base_manager.filter(**{f"{policy.date_field}__lt": bound})
    if policy.filters:
        qs = qs.filter(**policy.filters)
    pending = _pending_q(policy, model)
    if pending is not None:
        qs = qs.filter(pending)
    return qs


def _pending_q(policy: RetentionPolicy, model) -> Q | None:
    """Rows whose fields still hold data, so field actions are not repeated on later runs."""
    if policy.action == RetentionAction.DELETE or not policy.fields:
        return None
    mask = registry_bridge.mask_text()
    q = Q(pk__in=[])
    for name in policy.fields:
        field = model._meta.get_field(name)
        has_value = ~Q(**{f"{name}__isnull": True}) if field.null else Q()
        if isinstance(field, models.CharField | models.TextField):
            has_value &= ~Q(**{name: ""})
        if policy.action == RetentionAction.MASK:
            has_value &= ~Q(**{name: mask})
        elif policy.action == RetentionAction.PSEUDONYMISE:
            prefix = registry_bridge.pseudonym_prefix()
            if prefix:
                has_value &= ~Q(**{f"{name}__startswith": prefix})
        q |= has_value
    return q


def _apply(policy: RetentionPolicy, model, window) -> tuple[int, int]:
    """Act on the rows of one batch window; return (deleted, modified)."""
    if policy.action == RetentionAction.DELETE:
        return _delete(model, window), 0
    fields = list(policy.fields)
    if policy.action == RetentionAction.NULL:
        values = {}
        for name in fields:
            field = model._meta.get_field(name)
            values[name] = None if field.null else ""
        return 0, window.update(**values)
    if policy.action == RetentionAction.MASK:
        return 0, window.update(**dict.fromkeys(fields, registry_bridge.mask_text()))
    # Pseudonymise: each value gets its own keyed hash, written back in one bulk UPDATE.
    objs = list(window.only("pk", *fields))
    for obj in objs:
        for name in fields:
            value = getattr(obj, name)
            if value not in (None, ""):
                setattr(obj, name, registry_bridge.pseudonymise(str(value)))
    model._base_manager.bulk_update(objs, fields, batch_size=1000)
    return 0, len(objs)


def _file_fields(model) -> list[models.FileField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]


def _delete(model, window) -> int:
    """Delete the window's rows and what cascades from them; stored files go once the batch commits.

    Without cascades, delete signals or files Django's collector issues one ``DELETE … WHERE`` on the
    window (its fast path). Files are removed only after commit, so a rolled-back batch keeps them.
    The window already leaves out rows whose delete would reach held rows; what the collector gathered
    is checked once more, and the batch refused (the policy fails, nothing deleted) if it holds any.
    """
    collector = Collector(using=window.db, origin=window)
    collector.collect(window)
    reached = registry_bridge.held_models_reached(collector, _held_for.get())
    if reached:
        raise RuntimeError(
            f"Deleting these rows would also delete or change rows under a legal hold in {', '.join(reached)}; "
            "the batch was not deleted."
        )
    files = []
    for related, instances in collector.data.items():
        for field in _file_fields(related):
            files += [(field.storage, name) for obj in instances if (name := getattr(obj, field.attname))]
    for qs in collector.fast_deletes:
        for field in _file_fields(qs.model):
            files += [(field.storage, name) for name in qs.values_list(field.attname, flat=True) if name]
    _, per_model = collector.delete()
    if files:
        transaction.on_commit(lambda: _remove_files(files), using=window.db)
    return per_model.get(model._meta.label, 0)


def _remove_files(files) -> None:
    for storage, name in files:
        try:
            storage.delete(name)
        except OSError:  # already gone, or a storage hiccup: the row is gone either way; log and go on
            logger.warning("Could not remove stored file %s", name, exc_info=True)


@contextmanager
def _relaxed_commits():
    """Batch commits that need not wait for the disk (PostgreSQL), for the duration of a run.

    A batch and its checkpoint commit together; if the server crashed before flushing them, the
    next run simply redoes that batch, so durability of each commit buys nothing here.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        if connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")


def _policies(only: str | None):
    qs = RetentionPolicy.objects.filter(enabled=True, action__in=ENFORCEABLE)
    if only:
        qs = RetentionPolicy.objects.filter(name=only)
        if not qs.exists() and not any(name == only for name, *_ in _external_rules()):
            raise RetentionPolicy.DoesNotExist(f"No retention policy named {only!r}.")
    return list(qs.order_by("name"))


def _external_rules() -> list[tuple[str, ExternalSystem, SystemDataset, SystemRetentionRule]]:
    """The connected systems' rules, named ``<system key>:<rule>`` in run reports and ``--policy``."""
    return [(f"{system.key}:{rule.name}", system, dataset, rule) for system, dataset, rule in list_retention_rules()]


def _enforce_external(run: RetentionRun, *, scope) -> bool:
    """Apply the connected systems' rules, as the run's further items; True when one failed."""
    failed = False
    held_pairs = [(key, table) for key, _, table in (label.partition(".") for label in scope.held_labels) if table]
    held_people = (
        Identities.of(emails=scope.emails, user_ids=scope.user_ids) if scope.emails or scope.user_ids else None
    )
    for name, system, dataset, rule in _external_rules():
        if run.only_policy and run.only_policy != name:
            continue
        item, _ = RetentionRunItem.objects.get_or_create(
            run=run,
            policy_name=name[:100],
            defaults={"dataset": f"{system.key}.{dataset.table}"[:100], "action": rule.action},
        )
        if item.status in (ItemStatus.DONE, ItemStatus.HELD, ItemStatus.FAILED):
            failed |= item.status == ItemStatus.FAILED
            continue
        started = time.monotonic()
        try:
            outcome = enforce_retention_rule(
                system=system, rule=rule, now=run.now, dry_run=run.dry_run, held=held_pairs, held_people=held_people
            )
        except SystemUnavailable as exc:
            # In the report, in words; the next run tries again (its rows are still there to expire).
            failed = True
            item.status, item.errors = ItemStatus.FAILED, f"{system.name}: {exc.reason}"
        else:
            item.matched, item.skipped_hold = outcome.matched, outcome.skipped_hold
            if rule.action == RetentionAction.DELETE:
                item.deleted = outcome.changed + sum(outcome.cascaded.values())
            else:
                item.modified = outcome.changed
            item.status = ItemStatus.HELD if outcome.held else ItemStatus.DONE
        item.duration_seconds += time.monotonic() - started
        item.save()
    return failed


def _resumable_run(only: str | None) -> RetentionRun | None:
    # Called while holding the lock: a run still marked running or interrupted was cut short.
    return (
        RetentionRun.objects.filter(
            dry_run=False, status__in=[RunStatus.RUNNING, RunStatus.INTERRUPTED], only_policy=only or ""
        )
        .order_by("-started_at")
        .first()
    )


def enforce_retention(
    *,
    dry_run: bool = False,
    policy_name: str | None = None,
    now=None,
    trigger: str = "command",
    progress: Progress | None = None,
) -> RetentionRun:
    """Enforce every enabled policy (or one); writes a run report. Raises RunLocked if a run is in progress."""
    now = now or timezone.now()
    if dry_run:
        run = RetentionRun.objects.create(dry_run=True, trigger=trigger, only_policy=policy_name or "", now=now)
        return _execute(run, progress=progress)
    with enforcement_lock() as lock, _relaxed_commits():
        if not lock:
            raise RunLocked("Another retention run holds the lock; this one did nothing.")
        run = _resumable_run(policy_name)
        if run is not None:
            run.resumed_count += 1
            run.status = RunStatus.RUNNING
            run.save(update_fields=["resumed_count", "status"])
            logger.info("Resuming retention run %s", run.pk)
        else:
            run = RetentionRun.objects.create(trigger=trigger, only_policy=policy_name or "", now=now)
        return _execute(run, progress=progress, keep_alive=lock.keep_alive)


def _execute(
    run: RetentionRun, *, progress: Progress | None, keep_alive: Callable[[], None] | None = None
) -> RetentionRun:
    policies = _policies(run.only_policy or None)
    # Holds are read at the current moment, even when resuming an older run: a hold placed since must count.
    scope = registry_bridge.hold_scope(now=timezone.now())
    failed = False
    for policy in policies:
        item, _ = RetentionRunItem.objects.get_or_create(
            run=run,
            policy_name=policy.name,
            defaults={"policy": policy, "dataset": policy.dataset, "action": policy.action},
        )
        if item.status in (ItemStatus.DONE, ItemStatus.HELD, ItemStatus.FAILED):
            failed |= item.status == ItemStatus.FAILED
            continue
        try:
            _enforce_policy(
                run,
                item,
                policy,
                scope=scope,
                progress=progress,
                keep_alive=keep_alive,
            )
        except LockLost:
            raise  # another run took over this one (and resumes it): stop without touching the report
        except SoftTimeLimitExceeded:
            # Out of time: keep the checkpoint; the next run resumes here.
            run.status = RunStatus.INTERRUPTED
            run.error = "Stopped by the task's time limit; the next run resumes."
            run.save(update_fields=["status", "error"])
            raise
        except Exception as exc:  # one broken policy must not stop the others
            logger.exception("Retention policy %s failed", policy.name)
            failed = True
            item.refresh_from_db()
            item.status = ItemStatus.FAILED
            item.errors = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
            item.save(update_fields=["status", "errors"])
    failed |= _enforce_external(run, scope=scope)
    with transaction.atomic():
        run.status = RunStatus.FAILED if failed else RunStatus.COMPLETED
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at"])
        if not run.dry_run:
            _record_run(run)
    return run


def _record_run(run: RetentionRun) -> None:
    # One event per policy and one for the run, written once when the run finishes (a resumed run too).
    actor = Actor.system("retention enforcement")
    items = list(run.items.select_related("policy").order_by("policy_name"))
    for item in items:
        counts = {
            "status": item.status,
            "matched": item.matched,
            "deleted": item.deleted,
            "modified": item.modified,
            "skipped_hold": item.skipped_hold,
        }
        record_event(
            actor=actor,
            obj=item.policy or item,
            verb=RetentionVerb.ENFORCED,
            new=counts,
            note=f"{run} ({run.trigger})",
        )
    record_event(
        actor=actor,
        obj=run,
        verb=RetentionVerb.RUN_FINISHED,
        new={
            "status": run.status,
            "policies": len(items),
            "deleted": sum(i.deleted for i in items),
            "modified": sum(i.modified for i in items),
            "skipped_hold": sum(i.skipped_hold for i in items),
        },
        note=run.trigger,
    )


# Which rows are under a hold, for the policy being enforced: read by ``_delete``'s last check.
_held_for: ContextVar = ContextVar("retention_held_for", default=None)


def _enforce_policy(run, item, policy, *, scope, progress, keep_alive=None) -> None:
    held_for = scope.held_for if policy.action == RetentionAction.DELETE and scope else None
    token = _held_for.set(held_for)
    try:
        _enforce_policy_batches(
            run,
            item,
            policy,
            scope=scope,
            held_for=held_for,
            progress=progress,
            keep_alive=keep_alive,
        )
    finally:
        _held_for.reset(token)


def _enforce_policy_batches(run, item, policy, *, scope, held_for, progress, keep_alive) -> None:
    model = apps.get_model(policy.dataset)
    started = time.monotonic()
    if item.cutoff is None:
        item.cutoff = policy_cutoff(policy, now=run.now)
    base = matching_queryset(policy, cutoff=item.cutoff)
    item.status = ItemStatus.RUNNING
    dataset_held = policy.dataset.lower() in scope.held_labels
    # The up-front count is a full scan of the matching rows: only done when someone watches a progress bar
    # (or to report a held dataset); otherwise the total is what the batches matched.
    if item.batches == 0 and not item.last_pk and (progress is not None or dataset_held):
        item.total = base.count()
    item.save(update_fields=["cutoff", "status", "total"])

    if dataset_held:
        item.matched = item.skipped_hold = item.total
        item.status = ItemStatus.HELD
        item.duration_seconds += time.monotonic() - started
        item.save(update_fields=["matched", "skipped_hold", "status", "duration_seconds"])
        return

    hold_q = scope.held_for(model)
    # A delete also reaches what cascades from the rows (a conversation's messages), what it would change
    # (SET_NULL) and what would refuse it (PROTECT): rows reaching held data are skipped like held rows.
    cascade_q = registry_bridge.cascade_hold_q(model, held_for)
    if cascade_q is not None:
        hold_q = cascade_q if hold_q is None else hold_q | cascade_q
    pk_field = model._meta.pk
    last = pk_field.to_python(item.last_pk) if item.last_pk else None
    batch_size = max(1, settings.RETENTION_BATCH_SIZE)
    in_batches = 0.0
    counters = ["matched", "deleted", "modified", "skipped_hold", "batches", "last_pk", "duration_seconds"]
    one_statement = None
    if not run.dry_run and _single_statement_delete(policy, model):
        one_statement = _one_statement_batches(model, base, batch_size=batch_size, hold_q=hold_q, item=item)
    while True:
        tick = time.monotonic()
        if one_statement:
            done = one_statement(last)
            if done is None:
                break
            size, deleted, upper = done
            held, modified = (size - deleted if hold_q is not None else 0), 0
        else:
            qs = (base if last is None else base.filter(pk__gt=last)).order_by("pk")
            # Keyset batch: the batch ends at the batch_size-th matching primary key; the window
            # (last, upper] then holds exactly that batch, and is acted on with one statement.
            upper_row = list(qs.values_list("pk", flat=True)[batch_size - 1 : batch_size])
            if upper_row:
                upper, size = upper_row[0], batch_size
            else:  # the last, shorter batch
                pks = list(qs.values_list("pk", flat=True))
                if not pks:
                    break
                upper, size = pks[-1], len(pks)
            with transaction.atomic():
                window = qs.filter(pk__lte=upper)
                held = window.filter(hold_q).count() if hold_q is not None else 0
                act = window.exclude(hold_q) if hold_q is not None else window
                if run.dry_run:
                    would = size - held
                    deleted, modified = (would, 0) if policy.action == RetentionAction.DELETE else (0, would)
                else:
                    deleted, modified = _apply(policy, model, act)
                _count_batch(item, size=size, held=held, deleted=deleted, modified=modified, upper=upper)
                spent = time.monotonic() - tick
                in_batches += spent
                item.duration_seconds += spent
                item.save(update_fields=counters)
        if one_statement:  # the statement saved the checkpoint; mirror it here for progress and the report
            _count_batch(item, size=size, held=held, deleted=deleted, modified=modified, upper=upper)
        last = pk_field.to_python(upper)
        if keep_alive:
            keep_alive()
        if progress:
            progress(item, item.matched, item.total)
    item.status = ItemStatus.DONE
    item.total = max(item.total, item.matched)
    item.duration_seconds += time.monotonic() - started - in_batches  # setup, count and one-statement batches
    item.save(update_fields=["status", "total", "duration_seconds"])


def _count_batch(item, *, size: int, held: int, deleted: int, modified: int, upper) -> None:
    item.matched += size
    item.skipped_hold += held
    item.deleted += deleted
    item.modified += modified
    item.batches += 1
    item.last_pk = str(upper)


INTEGER_KEYS = (models.AutoField, models.BigAutoField, models.IntegerField, models.BigIntegerField)


def _single_statement_delete(policy: RetentionPolicy, model) -> bool:
    """Whether each batch can be one statement: PostgreSQL, a plain delete Django would issue as one
    ``DELETE … WHERE`` anyway (no cascades, delete signals or stored files), on an integer key."""
    if connection.vendor != "postgresql" or policy.action != RetentionAction.DELETE:
        return False
    if _file_fields(model) or not isinstance(model._meta.pk, INTEGER_KEYS):
        return False
    return Collector(using=model._base_manager.db, origin=None).can_fast_delete(model._base_manager.none())


_LAST = object()  # stands for the checkpoint's key in a statement compiled once, replaced at each batch
_LO, _GONE, _HELD = "_retention_lo", "_retention_gone", "_retention_held"  # block variables, unlike any column


def _one_statement_batches(model, base, *, batch_size: int, hold_q, item) -> Callable[[object], tuple | None]:
    """A function ``step(last)`` that deletes the next batch after key ``last`` (minus held rows) and advances
    the checkpoint in one anonymous block: one round trip per batch, compiled once per policy.

    The batch is the key range ``[k, k + batch_size)`` from the next matching key ``k``: at most
    ``batch_size`` rows, full where expired rows are dense (old rows have low keys), and deleted with one
    index range scan, as the raw ``DELETE`` would, instead of first reading the batch's keys. The block
    counts with ``GET DIAGNOSTICS`` (a ``RETURNING`` list to count would cost a third more per batch).
    Outside a transaction the block is its own transaction, so the rows and the checkpoint commit
    together or not at all. ``step`` returns (matched, deleted, last key covered), or None when done.
    """
    db = base.db
    qn = connection.ops.quote_name
    after = base.filter(pk__gt=RawSQL("%s", (_LAST,))).order_by("pk")
    start_sql, start_params = after.values_list("pk", flat=True)[:1].query.get_compiler(using=db).as_sql()
    window = after.order_by().filter(pk__gte=RawSQL(_LO, ()), pk__lt=RawSQL(f"{_LO} + %s", (batch_size,)))
    act = window.exclude(hold_q) if hold_q is not None else window
    delete_sql, delete_params = act.query.chain(DeleteQuery).get_compiler(using=db).as_sql()
    held_sql, held_params = "", ()
    if hold_q is not None:
        held_pks, held_params = window.filter(hold_q).values_list("pk", flat=True).query.get_compiler(using=db).as_sql()
        held_sql = f"{_HELD} := (SELECT count(*) FROM ({held_pks}) AS held);"
    items = qn(RetentionRunItem._meta.db_table)
    tag = f"$retention_{uuid.uuid4().hex}$"  # dollar quotes no value can contain
    sql = f"""DO {tag}
        DECLARE {_LO} bigint; {_GONE} bigint; {_HELD} bigint := 0;
        BEGIN
          {_LO} := ({start_sql});
          IF {_LO} IS NULL THEN RETURN; END IF;
          {held_sql}
          {delete_sql};
          GET DIAGNOSTICS {_GONE} = ROW_COUNT;
          UPDATE {items}
             SET matched = matched + {_GONE} + {_HELD}, deleted = deleted + {_GONE},
                 skipped_hold = skipped_hold + {_HELD}, batches = batches + 1, last_pk = ({_LO} + %s - 1)::text
           WHERE id = %s;
        END {tag};
        SELECT batches, matched, deleted, last_pk FROM {items} WHERE id = %s"""
    params = [*start_params, *held_params, *delete_params, batch_size, item.pk, item.pk]
    slots = [i for i, p in enumerate(params) if p is _LAST]
    lowest = -(2**63)  # before any integer key: the first batch starts at the first matching row

    def step(last) -> tuple | None:
        bound = params.copy()
        for i in slots:
            bound[i] = lowest if last is None else last
        # Inside a caller's transaction (tests, admin) a savepoint keeps a failed batch from poisoning it.
        with transaction.atomic(using=db) if connection.in_atomic_block else nullcontext():
            batches, matched, deleted, upper = _run_batch_statement(sql, bound)
        if batches == item.batches:
            return None
        return matched - item.matched, deleted - item.deleted, upper

    return step


def _run_batch_statement(sql: str, params) -> tuple:
    with connection.cursor() as cursor:
        # A DO block takes no bind parameters: the driver quotes the values into the text (as it does anyway).
        cursor.execute(cursor.cursor.mogrify(sql, params).decode())
        return cursor.fetchone()
