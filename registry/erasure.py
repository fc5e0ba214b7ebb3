"""Erasure: dry-run preview, approval, and step-by-step execution with checkpoints.

Each dataset is one ``ErasureStep`` executed in its own transaction; a step marked done is never
run again, so a run that crashed resumes where it stopped. The account goes last.
"""

from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils import timezone

from registry.models import ErasureRun, ErasureStep
from registry.selectors import held_dataset_labels, subject_holds
from registry.sites import site
from registry.strategies import MASK_TEXT, Strategy, pseudonymise_for
from registry.subjects import Subject

BATCH = 2000


def _subject(run: ErasureRun) -> Subject:
    return Subject(
        user_ids=[run.subject_user_id] if run.subject_user_id else [],
        emails=list(run.subject_emails),
        exclude={"requests_app.DataRequest": [run.data_request_id]},
    )


def _subject_rows(ds, subject: Subject):
    qs = ds.queryset_for(user_ids=subject.user_ids, emails=subject.emails)
    if subject.exclude.get(ds.label):
        qs = qs.exclude(pk__in=subject.exclude[ds.label])
    return qs


def _hold_reason(ds, subject: Subject, now) -> str:
    holds = list(subject_holds(user_ids=subject.user_ids, emails=subject.emails, now=now))
    if holds:
        return "legal hold on the subject: " + "; ".join(h.reason for h in holds)
    if ds.label in held_dataset_labels(now=now):
        from registry.selectors import active_holds

        reasons = active_holds(now=now).filter(dataset=ds.label).values_list("reason", flat=True)
        return "legal hold on the dataset: " + "; ".join(reasons)
    return ""


def plan_dataset(ds, subject: Subject, *, now=None) -> dict:
    """What erasing this dataset for ``subject`` would do (the dry run)."""
    now = now or timezone.now()
    rows = _subject_rows(ds, subject).count()
    plan = {"dataset": ds.label, "title": ds.title, "rows": rows, "delete_rows": 0, "fields": {}, "kept": []}
    hold = _hold_reason(ds, subject, now) if rows else ""
    if hold:
        plan["kept"].append({"field": "*", "reason": hold, "rows": rows})
        plan["held"] = True
        return plan
    if ds.deletes_rows:
        plan["delete_rows"] = rows
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
    subject.exclude = {"requests_app.DataRequest": [data_request.pk]}
    plans = [plan_dataset(ds, subject, now=now) for ds in datasets]
    if run is None:
        run = ErasureRun(data_request=data_request)
    run.subject_user_id = subject.user_ids[0] if subject.user_ids else None
    run.subject_emails = subject.emails
    run.preview = {"generated_at": now.isoformat(), "datasets": plans}
    run.save()
    run.steps.all().delete()
    ErasureStep.objects.bulk_create(ErasureStep(run=run, position=i, dataset=ds.label) for i, ds in enumerate(datasets))
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


def _cascades_from_user(model) -> bool:
    User = get_user_model()
    return any(
        f.is_relation and f.many_to_one and f.related_model is User and f.remote_field.on_delete is models.CASCADE
        for f in model._meta.concrete_fields
    ) or (model is User)


def _erase_dataset(ds, subject: Subject, *, now) -> tuple[str, dict, list]:
    """Apply the declared strategies to one dataset; returns (state, counts, kept)."""
    qs = _subject_rows(ds, subject)
    model = ds.model
    hold = _hold_reason(ds, subject, now) if qs.exists() else ""
    if hold:
        return ErasureStep.State.KEPT, {"kept_rows": qs.count()}, [{"field": "*", "reason": hold}]
    counts: dict[str, int] = {}
    kept: list[dict] = []
    User = get_user_model()
    if model is User:
        blocking = _blocking_holds(subject, now=now)
        if blocking:
            # Deleting the account would cascade into held data: deactivate it instead.
            n = User.objects.filter(pk__in=subject.user_ids).update(is_active=False)
            return ErasureStep.State.KEPT, {"deactivated": n}, [{"field": "*", "reason": blocking}]
    if ds.deletes_rows:
        deleted = 0
        for pks in _pk_batches(qs):
            batch = model._default_manager.filter(pk__in=pks)
            for name in ds.file_fields:
                for path in batch.values_list(name, flat=True):
                    if path:
                        default_storage.delete(path)
            deleted += batch.delete()[1].get(ds.label, 0)
        counts[Strategy.DELETE] = deleted
        return ErasureStep.State.DONE, counts, kept
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


def _blocking_holds(subject: Subject, *, now) -> str:
    """Reasons why the account cannot be deleted without destroying held data."""
    reasons = []
    for label in held_dataset_labels(now=now):
        if not site.is_registered(label):
            continue
        ds = site.get(label)
        if ds.model is get_user_model():
            reasons.append("legal hold on accounts")
        elif _cascades_from_user(ds.model) and ds.queryset_for(user_ids=subject.user_ids).exists():
            reasons.append(f"legal hold on {ds.title}, which would be deleted with the account")
    return "; ".join(reasons)


def run_steps(run: ErasureRun, *, on_step=None) -> ErasureRun:
    """Execute every pending step in order, each in its own transaction (the checkpoint)."""
    subject = _subject(run)
    for step in run.steps.filter(state=ErasureStep.State.PENDING).order_by("position"):
        if not site.is_registered(step.dataset):
            continue
        ds = site.get(step.dataset)
        with transaction.atomic():
            if on_step is not None:
                on_step(step)
            state, counts, kept = _erase_dataset(ds, subject, now=timezone.now())
            step.state, step.counts, step.kept, step.finished_at = state, counts, kept, timezone.now()
            step.save(update_fields=["state", "counts", "kept", "finished_at"])
    return run


def build_report(run: ErasureRun) -> dict:
    """Counts per dataset and strategy, and every kept item with its reason."""
    datasets, kept = [], []
    totals: dict[str, int] = {}
    for step in run.steps.order_by("position"):
        title = site.get(step.dataset).title if site.is_registered(step.dataset) else step.dataset
        datasets.append({"dataset": step.dataset, "title": title, "state": step.state, "counts": step.counts})
        for key, n in step.counts.items():
            totals[key] = totals.get(key, 0) + n
        for item in step.kept:
            kept.append({"dataset": step.dataset, "title": title, **item})
    return {"datasets": datasets, "totals": totals, "kept": kept, "finished_at": timezone.now().isoformat()}
