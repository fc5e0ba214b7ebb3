"""Access and portability exports: stream every dataset of a subject into a ZIP in private storage."""

import io
import json
import os
import re
import zipfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit import services as audit_services
from core import csvsafe
from core.selectors import get_organisation
from fulfilment import connected, external
from fulfilment.models import DataExport
from registry.selectors import dataset_retention_rules, enforced_retention_texts, retention_text
from registry.sites import LegalBasis, site
from registry.subjects import Subject, subject_for_request
from registry.taxonomy import category_label
from registry.texts import tr, tr_all

CHUNK = 2000


def _audit(export: DataExport, *, verb: str, old=None, new=None, note: str = "", actor=None) -> None:
    """An event in the export's trail, which is also its request's."""
    audit_services.record_event(
        actor=actor,
        obj=export,
        verb=verb,
        old=old,
        new=new,
        note=note,
        request_reference=export.data_request.reference,
    )


def export_dir() -> Path:
    path = Path(settings.PRIVATE_ROOT) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _slug(label: str) -> str:
    return label.replace(".", "_").lower()


def _write_dataset(zf: zipfile.ZipFile, ds, subject: Subject, on_rows) -> int:
    """Write one dataset as JSON and CSV, a chunk at a time; returns the row count."""
    names = ds.export_field_names()
    qs = ds.queryset_for(user_ids=subject.user_ids, emails=subject.emails).order_by("pk").values_list(*names)
    slug = _slug(ds.label)
    count = 0
    with zf.open(f"json/{slug}.json", "w", force_zip64=True) as raw:
        out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        # Credentials (session keys, password hashes, tokens) are named, never written: they would open the account.
        header = {"dataset": ds.label, "title": ds.title, "fields": names, "withheld": ds.withheld_field_names()}
        out.write(json.dumps(header)[:-1] + ', "rows": [\n')
        pending = 0
        for row in qs.iterator(chunk_size=CHUNK):
            if count:
                out.write(",\n")
            out.write(json.dumps(dict(zip(names, row, strict=True)), cls=DjangoJSONEncoder, ensure_ascii=False))
            count += 1
            pending += 1
            if pending >= CHUNK:
                on_rows(pending)
                pending = 0
        out.write("\n]}\n")
        out.flush()
        out.detach()
        if pending:
            on_rows(pending)
    with zf.open(f"csv/{slug}.csv", "w", force_zip64=True) as raw:
        out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csvsafe.writer(out)
        writer.writerow(names)
        for row in qs.iterator(chunk_size=CHUNK):
            writer.writerow(["" if v is None else (v.isoformat() if hasattr(v, "isoformat") else v) for v in row])
        out.flush()
        out.detach()
    for field_name in ds.file_fields:
        files = ds.queryset_for(user_ids=subject.user_ids, emails=subject.emails).values_list("pk", field_name)
        for pk, name in files.iterator(chunk_size=CHUNK):
            if not name or not default_storage.exists(name):
                continue
            with (
                default_storage.open(name, "rb") as src,
                zf.open(f"files/{slug}/{pk}-{os.path.basename(name)}", "w") as dst,
            ):
                while chunk := src.read(64 * 1024):
                    dst.write(chunk)
    return count


def _task_label(task, title: str) -> str:
    return f"{task.system_key}.{re.sub(r'[^a-z0-9]+', '_', title.lower()).strip('_') or 'data'}"


def _write_task_answers(zf: zipfile.ZipFile, tasks) -> dict[str, int]:
    """Each HTTP system's data (one dataset per key of its answer's ``data``) and each owner's files."""
    counts: dict[str, int] = {}
    for task in tasks:
        data, files = connected.export_answers(task)
        for title, rows in data.items():
            label = _task_label(task, title)
            slug = _slug(label)
            header = {"dataset": label, "system": task.system_name, "title": title, "rows": rows}
            zf.writestr(f"json/{slug}.json", json.dumps(header, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1))
            columns = sorted({k for row in rows if isinstance(row, dict) for k in row})
            out = io.StringIO()
            writer = csvsafe.writer(out)
            writer.writerow(columns)
            for row in rows:
                if isinstance(row, dict):
                    writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
            zf.writestr(f"csv/{slug}.csv", out.getvalue())
            counts[label] = len(rows)
        for f in files:
            path = Path(settings.PRIVATE_ROOT) / f.path
            if path.exists():
                zf.write(path, f"files/{task.system_key}/{f.name}")
        if files:
            counts[f"{task.system_key}.files"] = len(files)
    return counts


def _task_information(tasks, counts: dict[str, int]) -> list[dict]:
    """The report's entries for what HTTP systems and system owners sent: a declared dataset's meaning when the
    answer's title matches one, else said to be undeclared."""
    from systems.models import SystemDataset

    info = []
    for task in tasks:
        declared = {d.title: d for d in SystemDataset.objects.filter(system__key=task.system_key)}
        data, files = connected.export_answers(task)
        for title in data:
            label = _task_label(task, title)
            entry = {
                "label": label,
                "title": title,
                "system": task.system_name,
                "rows": counts.get(label),
                "file": f"json/{_slug(label)}.json",
                "categories": [],
                "purposes": [],
                "legal_bases": [],
                "recipients": [],
                "sources": [],
                "retention": [],
            }
            if title in declared:
                from systems.selectors import dataset_information as described

                entry.update(
                    {
                        k: v
                        for k, v in described(system=declared[title].system, dataset=declared[title]).items()
                        if k in ("categories", "purposes", "legal_bases", "recipients", "retention", "description")
                    }
                )
            info.append(entry)
        if files:
            info.append(
                {
                    "label": f"{task.system_key}.files",
                    "title": ", ".join(f.name for f in files),
                    "system": task.system_name,
                    "rows": len(files),
                    "file": f"files/{task.system_key}/",
                    "categories": [],
                    "purposes": [],
                    "legal_bases": [],
                    "recipients": [],
                    "sources": [],
                    "retention": [],
                }
            )
    return info


def dataset_information(counts: dict | None = None) -> list[dict]:
    """Art. 15 information per dataset: purposes, categories, legal bases, recipients, retention, source."""
    enforced = enforced_retention_texts()  # the periods actually applied, as staff may have edited them
    info = []
    for ds in site.datasets():
        info.append(
            {
                "label": ds.label,
                "title": tr(ds.title),
                "description": tr(ds.description),
                "rows": (counts or {}).get(ds.label),
                "file": f"json/{_slug(ds.label)}.json",
                "categories": sorted({category_label(f.category) for f in ds.fields}),
                "purposes": sorted(tr_all(ds.purposes())),
                "legal_bases": [LegalBasis.label(b) for b in ds.legal_bases()],
                "recipients": sorted(tr_all(ds.recipients())),
                "sources": sorted(tr_all(ds.sources())),
                "retention": [retention_text(r, enforced) for r in dataset_retention_rules(ds)],
            }
        )
    return info


def build_export(*, export: DataExport) -> DataExport:
    """Build the ZIP for ``export`` (idempotent: a finished export is left alone); updates progress as it goes."""
    export.refresh_from_db()
    if export.state == DataExport.State.READY:
        return export
    data_request = export.data_request
    subject = subject_for_request(data_request)
    datasets = site.datasets()
    total = sum(ds.queryset_for(user_ids=subject.user_ids, emails=subject.emails).count() for ds in datasets)
    with transaction.atomic():
        _audit(
            export, verb="export_building", old=export.state, new=DataExport.State.RUNNING, note=_("Being prepared.")
        )
        DataExport.objects.filter(pk=export.pk).update(
            state=DataExport.State.RUNNING,
            started_at=timezone.now(),
            progress_at=timezone.now(),
            rows_total=total,
            rows_done=0,
            error="",
        )
    final = export_dir() / f"{export.pk}.zip"
    partial = final.with_suffix(".part")
    done = 0

    def on_rows(n: int) -> None:
        nonlocal done
        done += n
        DataExport.objects.filter(pk=export.pk).update(rows_done=done, progress_at=timezone.now())

    counts = {}
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            for ds in datasets:
                counts[ds.label] = _write_dataset(zf, ds, subject, on_rows)
            # The organisation's other databases, next to the portal's own data (SystemUnavailable: retried).
            counts.update(external.write_datasets(zf, subject, on_rows))
            # What the HTTP systems answered and the files system owners sent.
            answered = connected.exportable_tasks(data_request=data_request)
            counts.update(_write_task_answers(zf, answered))
            org = get_organisation()
            # The report is for the requester: their language, never whatever the worker thread last used.
            with translation.override(data_request.language or settings.LANGUAGE_CODE):
                html = render_to_string(
                    "registry/export_report.html",
                    {
                        "organisation": org,
                        "data_request": data_request,
                        "datasets": dataset_information(counts)
                        + external.dataset_information(counts)
                        + _task_information(answered, counts),
                        "generated_at": timezone.now(),
                        "site_url": settings.SITE_URL,
                    },
                )
            zf.writestr("report.html", html)
            zf.writestr(
                "README.txt",
                f"Your personal data held by {org.name}, request {data_request.reference}.\n"
                "report.html explains what each file holds, why we process it, who receives it and your rights.\n"
                "json/ holds one machine-readable file per dataset; csv/ the same as spreadsheets; "
                "files/ the files you uploaded.\n",
            )
        os.replace(partial, final)
    except external.SystemUnavailable:
        partial.unlink(missing_ok=True)  # the caller records the wait; the task tries again later
        raise
    except Exception as exc:
        partial.unlink(missing_ok=True)
        DataExport.objects.filter(pk=export.pk).update(state=DataExport.State.FAILED, error=str(exc)[:2000])
        raise
    now = timezone.now()
    DataExport.objects.filter(pk=export.pk).update(
        state=DataExport.State.READY,
        rows_done=done,
        file_path=str(final.relative_to(Path(settings.PRIVATE_ROOT))),
        size_bytes=final.stat().st_size,
        finished_at=now,
        expires_at=now + timedelta(days=settings.EXPORT_LINK_DAYS),
    )
    export.refresh_from_db()
    transaction.on_commit(lambda: _after_ready(export.pk))
    return export


def _after_ready(export_id) -> None:
    from fulfilment.services import export_ready

    export_ready(export=DataExport.objects.get(pk=export_id))


def export_file_path(export: DataExport) -> Path | None:
    if not export.file_path:
        return None
    path = Path(settings.PRIVATE_ROOT) / export.file_path
    return path if path.exists() else None


def purge_expired_exports(*, now=None) -> int:
    """Delete ZIPs whose link has expired; returns how many were removed."""
    now = now or timezone.now()
    removed = 0
    for export in DataExport.objects.filter(state=DataExport.State.READY, expires_at__lte=now).iterator():
        path = export_file_path(export)
        if path is not None:
            path.unlink(missing_ok=True)
        with transaction.atomic():
            DataExport.objects.filter(pk=export.pk).update(state=DataExport.State.EXPIRED, file_path="")
            _audit(
                export,
                verb="export_expired",
                actor="purge_expired_exports",
                old=DataExport.State.READY,
                new=DataExport.State.EXPIRED,
                note=_("The download link expired and the file was deleted."),
            )
            # The systems' answers were held only to be handed over: they go with the last live download.
            others = DataExport.objects.filter(data_request_id=export.data_request_id, state=DataExport.State.READY)
            if not others.exclude(pk=export.pk).exists():
                connected.clear_delivered_answers(data_request=export.data_request)
        removed += 1
    return removed
