"""Erasure: dry-run preview, approval, and step-by-step execution with checkpoints.

Each dataset is one ``ErasureStep`` executed in its own transaction; a step marked done is never
run again, so a run that crashed resumes where it stopped. The account goes last.
"""

from functools import reduce
from operator import or_

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import make_password
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import Q
from django.db.models.deletion import Collector
from django.utils import timezone
from django.utils.translation import gettext_noop

from fulfilment import external
from fulfilment.models import ErasureRun, ErasureStep
from registry.cascades import HeldDataReached, blocking_paths, reached_held_models
from registry.checks import unique_field_names
from registry.selectors import HoldScope, held_dataset_labels, hold_scope, subject_holds
from registry.sites import site
from registry.strategies import MASK_TEXT, Strategy, pseudonymise_for
from registry.subjects import Subject

BATCH = 2000
REQUESTS_LABEL = "requests_app.DataRequest"  # the request records: the erasure's own request is sealed apart


def _subject(run: ErasureRun) -> Subject:
    return Subject(
        user_ids=[run.subject_user_id] if run.subject_user_id else [],
        emails=list(run.subject_emails),
        exclude={REQUESTS_LABEL: [run.data_request_id]},
    )


def _subject_rows(ds, subject: Subject):
    qs = ds.queryset_for(user_ids=subject.user_ids, emails=subject.emails)
    if subject.exclude.get(ds.label):
        qs = qs.exclude(pk__in=subject.exclude[ds.label])
    return qs


# What requesters read about data kept under a legal hold: the staff's reason may name an investigation or
# other people, so it stays in the staff report only.
HOLD_PUBLIC_REASON = gettext_noop("kept under a legal hold (a legal obligation or legal claims)")


def _hold_item(reason: str, **extra) -> dict:
    """A kept item caused by a legal hold: ``reason`` for staff, ``public_reason`` for the requester."""
    return {"field": "*", "reason": reason, "hold": True, "public_reason": HOLD_PUBLIC_REASON, **extra}


def is_hold_item(item: dict) -> bool:
    # Reports written before holds were flagged carry only the staff text, which starts this way.
    return bool(item.get("hold")) or str(item.get("reason", "")).startswith("legal hold")


def public_reason(item: dict) -> str:
    """Why an item was kept, as the requester may read it (untranslated; see ``registry.texts.tr``)."""
    return (item.get("public_reason") or HOLD_PUBLIC_REASON) if is_hold_item(item) else item.get("reason", "")


def _hold_reason(ds, subject: Subject, now) -> str:
    holds = list(subject_holds(user_ids=subject.user_ids, emails=subject.emails, now=now))
    if holds:
        return "legal hold on the subject: " + "; ".join(h.reason for h in holds)
    if ds.label in held_dataset_labels(now=now):
        from registry.selectors import active_holds

        reasons = active_holds(now=now).filter(dataset=ds.label).values_list("reason", flat=True)
        return "legal hold on the dataset: " + "; ".join(reasons)
    return ""


def _blocking(ds, scope: HoldScope) -> tuple[list, Q | None]:
    """The relation paths by which deleting this dataset's rows reaches held rows, and their union."""
    if not scope:
        return [], None
    paths = blocking_paths(ds.model, scope.held_for)
    return paths, (reduce(or_, (q for _, q in paths)) if paths else None)


def _blocking_reason(ds, paths, rows, scope: HoldScope) -> str:
    """Staff text: which held data deleting ``rows`` would reach, and what is done instead."""
    parts = []
    for held_model, q in paths:
        label = held_model._meta.label
        title = site.get(label).title if site.is_registered(label) else label
        if rows.filter(q).exists():
            reasons = scope.reasons_for(label)
            part = (
                f"{title}: legal hold on the dataset: " + "; ".join(reasons)
                if reasons
                else f"{title}: legal hold on a subject"
            )
            if part not in parts:
                parts.append(part)
    instead = (
        "the account is deactivated and its personal fields cleared instead"
        if issubclass(ds.model, AbstractBaseUser)
        else "its personal fields are cleared instead"
    )
    return f"legal hold: deleting would also delete or change held data ({'; '.join(parts)}); {instead}"


def plan_dataset(ds, subject: Subject, *, now=None, scope: HoldScope | None = None) -> dict:
    """What erasing this dataset for ``subject`` would do (the dry run)."""
    now = now or timezone.now()
    scope = scope if scope is not None else hold_scope(now=now)
    qs = _subject_rows(ds, subject)
    rows = qs.count()
    plan = {"dataset": ds.label, "title": ds.title, "rows": rows, "delete_rows": 0, "fields": {}, "kept": []}
    hold = _hold_reason(ds, subject, now) if rows else ""
    if hold:
        plan["kept"].append(_hold_item(hold, rows=rows))
        plan["held"] = True
        return plan
    if ds.deletes_rows:
        paths, blocked = _blocking(ds, scope)
        staying = qs.filter(blocked).count() if blocked is not None and rows else 0
        plan["delete_rows"] = rows - staying
        if staying:
            plan["kept"].append(_hold_item(_blocking_reason(ds, paths, qs.filter(blocked), scope), rows=staying))
            plan["fields"]["clear"] = [f.name for f in ds.fields if f.strategy != Strategy.KEEP]
        return plan
    for f in ds.fields:
        if f.strategy == Strategy.KEEP:
            if rows:
                plan["kept"].append({"field": f.name, "reason": f.keep_reason, "rows": rows})
        else:
            plan["fields"].setdefault(f.strategy, []).append(f.name)
    return plan


def preview(*, data_request, subject: Subject) -> ErasureRun:
    """Create or refresh the dry-run preview (only while it is not yet approved)."""
    run = ErasureRun.objects.filter(data_request=data_request).first()
    if run is not None and run.state != ErasureRun.State.PREVIEWED:
        return run
    now = timezone.now()
    datasets = site.datasets()
    subject.exclude = {REQUESTS_LABEL: [data_request.pk]}
    scope = hold_scope(now=now)
    plans = [plan_dataset(ds, subject, now=now, scope=scope) for ds in datasets]
    systems = external.erasure_systems()
    # The connected systems go first: the portal's own records of the person (their account last) stay
    # until every system has forgotten them, so a run stopped by an unreachable system can still resume.
    plans = [external.plan_system(s, subject, scope) for s in systems] + plans
    if run is None:
        run = ErasureRun(data_request=data_request)
    run.subject_user_id = subject.user_ids[0] if subject.user_ids else None
    run.subject_emails = subject.emails
    run.preview = {"generated_at": now.isoformat(), "datasets": plans}
    run.save()
    run.steps.all().delete()
    labels = [external.step_label(s) for s in systems] + [ds.label for ds in datasets]
    ErasureStep.objects.bulk_create(ErasureStep(run=run, position=i, dataset=label) for i, label in enumerate(labels))
    return run


def _pk_batches(qs):
    last = None
    while True:
        page = qs.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        pks = list(page.values_list("pk", flat=True)[:BATCH])
        if not pks:
            return
        yield pks
        last = pks[-1]


def _erase_dataset(ds, subject: Subject, *, now) -> tuple[str, dict, list]:
    """Apply the declared strategies to one dataset; returns (state, counts, kept)."""
    qs = _subject_rows(ds, subject)
    model = ds.model
    hold = _hold_reason(ds, subject, now) if qs.exists() else ""
    if hold:
        return ErasureStep.State.KEPT, {"kept_rows": qs.count()}, [_hold_item(hold)]
    if ds.label == REQUESTS_LABEL and not _hold_reason(ds, subject, now):
        # Before the requests are pseudonymised, while they can still be found: their audit trail, the
        # erasure's own request included.
        _scrub_request_trail(ds.queryset_for(user_ids=subject.user_ids, emails=subject.emails), subject)
    if ds.deletes_rows:
        return _delete_dataset_rows(ds, qs, now=now)
    counts: dict[str, int] = {}
    kept: list[dict] = []
    by_strategy: dict[str, list[str]] = {}
    for f in ds.fields:
        by_strategy.setdefault(f.strategy, []).append(f.name)
    for name in by_strategy.get(Strategy.KEEP, []):
        pf = ds.field(name)
        kept.append({"field": name, "reason": pf.keep_reason})
    rows = 0
    for pks in _pk_batches(qs):
        batch = model._default_manager.filter(pk__in=pks)
        rows += len(pks)
        updates = {}
        for name in by_strategy.get(Strategy.NULL, []):
            updates[model._meta.get_field(name).attname] = None
        for name in by_strategy.get(Strategy.MASK, []):
            updates[name] = MASK_TEXT
        pseudo = by_strategy.get(Strategy.PSEUDONYMISE, [])
        if pseudo:
            objs = list(batch.only("pk", *pseudo))
            for obj in objs:
                for name in pseudo:
                    setattr(obj, name, pseudonymise_for(model._meta.get_field(name), getattr(obj, name)))
            model._default_manager.bulk_update(objs, pseudo)
        if updates:
            batch.update(**updates)
    for strategy in (Strategy.NULL, Strategy.MASK, Strategy.PSEUDONYMISE):
        if by_strategy.get(strategy):
            counts[strategy] = rows
    if kept:
        counts["kept_rows"] = rows
    return ErasureStep.State.DONE, counts, [dict(k, rows=rows) for k in kept] if rows else []


def _delete_dataset_rows(ds, qs, *, now) -> tuple[str, dict, list]:
    """Delete the subject's rows, except those whose delete would reach held rows: those stay, cleared."""
    model = ds.model
    scope = hold_scope(now=now)
    paths, blocked = _blocking(ds, scope)
    deleted = staying = 0
    reason = ""
    for pks in _pk_batches(qs):
        batch = model._default_manager.filter(pk__in=pks)
        if blocked is not None:
            stay = list(batch.filter(blocked).values_list("pk", flat=True))
            if stay:
                rows = model._default_manager.filter(pk__in=stay)
                reason = reason or _blocking_reason(ds, paths, rows, scope)
                _clear_in_place(ds, rows)
                staying += len(stay)
                batch = batch.exclude(pk__in=stay)
        deleted += _delete_rows(ds, batch, scope)
    counts = {Strategy.DELETE: deleted}
    if not staying:
        return ErasureStep.State.DONE, counts, []
    counts["kept_rows"] = staying
    counts["cleared"] = staying
    if issubclass(model, AbstractBaseUser):
        counts["deactivated"] = staying
    state = ErasureStep.State.DONE if deleted else ErasureStep.State.KEPT
    return state, counts, [_hold_item(reason, rows=staying)]


def _delete_rows(ds, batch, scope: HoldScope) -> int:
    """Delete ``batch`` with Django's collector, after checking that nothing it gathered is held."""
    collector = Collector(using=batch.db, origin=batch)
    collector.collect(batch)
    reached = reached_held_models(collector, scope.held_for) if scope else []
    if reached:
        raise HeldDataReached(
            f"Deleting {ds.label} rows would also delete or change rows under a legal hold in {', '.join(reached)}; "
            "nothing was deleted."
        )
    # The files go first: a step that fails after this point is run again and finds the rows without them,
    # which is the erasure's aim anyway.
    _remove_files([path for name in ds.file_fields for path in batch.values_list(name, flat=True) if path])
    _, per_model = collector.delete()
    return per_model.get(ds.label, 0)


def _remove_files(paths) -> None:
    for path in paths:
        default_storage.delete(path)


def _clear_in_place(ds, rows) -> None:
    """Clear the registered personal fields of rows that must stay (their delete would reach held data).

    Declared null/mask/pseudonymise strategies apply as declared, keep fields stay; fields whose strategy
    was "delete the row" are emptied: pseudonymised when unique, nulled when nullable, blanked when text,
    their files removed. Links (foreign keys) that cannot be null stay. An account is also deactivated and
    can no longer be logged in to.
    """
    model = ds.model
    unique = unique_field_names(model)
    updates: dict = {}
    pseudo: list[str] = []
    files: list[str] = []
    for pf in ds.fields:
        field = model._meta.get_field(pf.name)
        strategy = pf.strategy
        if strategy == Strategy.KEEP:
            continue
        if strategy == Strategy.DELETE:
            if isinstance(field, models.FileField):
                files.append(pf.name)
                strategy = None
            elif pf.name in unique:
                strategy = Strategy.PSEUDONYMISE if isinstance(field, models.CharField | models.UUIDField) else None
            elif field.null:
                strategy = Strategy.NULL
            elif isinstance(field, models.CharField | models.TextField) and not field.is_relation:
                updates[field.attname] = ""
                strategy = None
            else:
                strategy = None
        if strategy == Strategy.NULL:
            updates[field.attname] = None
        elif strategy == Strategy.MASK:
            updates[field.attname] = MASK_TEXT
        elif strategy == Strategy.PSEUDONYMISE:
            pseudo.append(pf.name)
    for name in files:
        _remove_files([path for path in rows.values_list(name, flat=True) if path])
        updates[name] = ""
    if issubclass(model, AbstractBaseUser):
        updates["password"] = make_password(None)
        if any(f.name == "is_active" for f in model._meta.concrete_fields):
            updates["is_active"] = False
    if pseudo:
        objs = list(rows.only("pk", *pseudo))
        for obj in objs:
            for name in pseudo:
                field = model._meta.get_field(name)
                value = pseudonymise_for(field, getattr(obj, name))
                # A unique column narrower than a pseudonym (the checks only vet declared strategies) takes
                # its start: still keyed, still distinct in practice.
                if isinstance(value, str) and getattr(field, "max_length", None):
                    value = value[: field.max_length]
                setattr(obj, name, value)
        model._default_manager.bulk_update(objs, pseudo)
    if updates:
        rows.update(**updates)


def _scrub_request_trail(requests, subject: Subject) -> None:
    """Remove the subject's data from the audit trail of their requests (the rule is the requests app's)."""
    from requests_app.services import scrub_request_trail

    scrub_request_trail(data_requests=requests, user_ids=subject.user_ids)


def run_steps(run: ErasureRun, *, on_step=None) -> ErasureRun:
    """Execute every pending step in order, each in its own transaction (the checkpoint)."""
    subject = _subject(run)
    ErasureRun.objects.filter(pk=run.pk).update(progress_at=timezone.now())
    for step in run.steps.filter(state=ErasureStep.State.PENDING).order_by("position"):
        if step.dataset.startswith(external.STEP_PREFIX):
            system = external.system_of_step(step)
            if system is not None:
                with transaction.atomic():  # a resumed run overlapping a slow worker: the second waits here
                    locked = ErasureStep.objects.select_for_update().get(pk=step.pk)
                if locked.state == ErasureStep.State.PENDING:
                    if on_step is not None:
                        on_step(locked)
                    external.erase_system(locked, system, subject, hold_scope(now=timezone.now()))
                    ErasureRun.objects.filter(pk=run.pk).update(progress_at=timezone.now())
            continue
        if not site.is_registered(step.dataset):
            continue
        ds = site.get(step.dataset)
        with transaction.atomic():
            # A run resumed by the watchdog may overlap a worker that was only slow: the row lock makes the
            # second wait, and it skips the step the first one finished.
            step = ErasureStep.objects.select_for_update().get(pk=step.pk)
            if step.state != ErasureStep.State.PENDING:
                continue
            if on_step is not None:
                on_step(step)
            state, counts, kept = _erase_dataset(ds, subject, now=timezone.now())
            step.state, step.counts, step.kept, step.finished_at = state, counts, kept, timezone.now()
            step.save(update_fields=["state", "counts", "kept", "finished_at"])
            ErasureRun.objects.filter(pk=run.pk).update(progress_at=timezone.now())
    return run


def build_report(run: ErasureRun) -> dict:
    """Counts per dataset and strategy, and every kept item with its reason."""
    datasets, kept = [], []
    totals: dict[str, int] = {}
    for step in run.steps.order_by("position"):
        system = external.system_of_step(step)
        if system is not None:
            title, counts = system.name, external.report_counts(step)
        else:
            title = site.get(step.dataset).title if site.is_registered(step.dataset) else step.dataset
            counts = step.counts
        datasets.append({"dataset": step.dataset, "title": title, "state": step.state, "counts": counts})
        for key, n in counts.items():
            totals[key] = totals.get(key, 0) + n
        for item in step.kept:
            kept.append({"dataset": step.dataset, "title": title, **item})
    run.refresh_from_db(fields=["crash_resumes"])
    return {
        "datasets": datasets,
        "totals": totals,
        "kept": kept,
        "finished_at": timezone.now().isoformat(),
        # How often a worker died mid-run and the watchdog resumed it from the last finished step.
        "resumed_after_crash": run.crash_resumes,
    }


def public_report(report: dict) -> dict:
    """The report as the requester may read it: kept items under a legal hold give the generic reason only."""
    kept = [
        {k: v for k, v in dict(item, reason=public_reason(item)).items() if k not in ("hold", "public_reason")}
        for item in report.get("kept", [])
    ]
    return {**report, "kept": kept}
