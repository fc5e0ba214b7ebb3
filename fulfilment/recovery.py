"""The watchdog: exports and erasures whose worker died are picked up again within minutes.

A worker killed mid-task leaves its message unacknowledged in the broker until the visibility
timeout (hours: it must outlast the longest task). Exports and erasures note their progress as
they go; one still marked running with no progress for ``FULFILMENT_STALL_MINUTES`` lost its
worker, and is queued again: an erasure resumes from its last finished step, an export is rebuilt.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from fulfilment.models import DataExport, ErasureRun

WATCHDOG = "watchdog"  # the actor in the request's trail


def stall_cutoff(*, now) -> timezone.datetime:
    """Runs with no progress since this instant count as stalled."""
    return now - timedelta(minutes=settings.FULFILMENT_STALL_MINUTES)


def _stalled(model, *, now):
    cutoff = stall_cutoff(now=now)
    return model.objects.filter(
        Q(progress_at__lt=cutoff) | Q(progress_at__isnull=True, started_at__lt=cutoff), state=model.State.RUNNING
    )


def _since(value) -> str:
    return formats.date_format(timezone.localtime(value), "j F Y H:i") if value else _("its start")


def resume_stalled_runs(*, now=None) -> dict:
    """Queue again every export and erasure still running with no progress for N minutes; note it in the trail."""
    now = now or timezone.now()
    exports = sum(_resume_export(pk=pk, now=now) for pk in _stalled(DataExport, now=now).values_list("pk", flat=True))
    erasures = sum(_resume_erasure(pk=pk, now=now) for pk in _stalled(ErasureRun, now=now).values_list("pk", flat=True))
    return {"exports": exports, "erasures": erasures}


@transaction.atomic
def _resume_export(*, pk, now) -> bool:
    from fulfilment.services import _queue_build, _record

    cutoff = stall_cutoff(now=now)
    export = DataExport.objects.select_for_update().select_related("data_request").filter(pk=pk).first()
    if (
        export is None
        or export.state != DataExport.State.RUNNING
        or (export.progress_at or export.started_at) >= cutoff
    ):
        return False  # finished or moved on since the list was read
    last = export.progress_at or export.started_at
    # Back to queued, progress touched: the next watchdog pass leaves it alone while it waits for a worker.
    DataExport.objects.filter(pk=pk).update(
        state=DataExport.State.PENDING, progress_at=now, crash_resumes=F("crash_resumes") + 1
    )
    _record(
        export.data_request,
        actor=WATCHDOG,
        obj=export,
        verb="export_restarted",
        note=_(
            "The export stopped making progress (no progress since %(since)s; its worker crashed) and was started again."
        )
        % {"since": _since(last)},
        old="running",
        new="restarted after a worker crash",
    )
    export_id = str(pk)
    transaction.on_commit(lambda: _queue_build(export_id))
    return True


@transaction.atomic
def _resume_erasure(*, pk, now) -> bool:
    from fulfilment.services import _queue_erasure, _record

    cutoff = stall_cutoff(now=now)
    run = ErasureRun.objects.select_for_update().select_related("data_request").filter(pk=pk).first()
    if run is None or run.state != ErasureRun.State.RUNNING or (run.progress_at or run.started_at) >= cutoff:
        return False
    last = run.progress_at or run.started_at
    ErasureRun.objects.filter(pk=pk).update(progress_at=now, crash_resumes=F("crash_resumes") + 1)
    done = run.steps.exclude(state="pending").count()
    _record(
        run.data_request,
        actor=WATCHDOG,
        obj=run,
        verb="erasure_resumed",
        note=_(
            "The erasure stopped making progress (no progress since %(since)s; its worker crashed). It was "
            "resumed after %(done)s of %(total)s steps, from the last finished step."
        )
        % {"since": _since(last), "done": done, "total": run.steps.count()},
        old="running",
        new="resumed after a worker crash",
    )
    transaction.on_commit(lambda: _queue_erasure(pk))
    return True
