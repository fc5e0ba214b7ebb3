"""Thin Celery wrappers around registry services."""

from celery import shared_task

from core.tasks import SCHEDULED_JOB_RETRY


@shared_task(name="registry.build_export", acks_late=True, soft_time_limit=3600, time_limit=3700)
def build_export_task(export_id: str) -> str:
    """Build one access/portability export ZIP."""
    from registry.models import DataExport
    from registry.services import build_export

    export = DataExport.objects.filter(pk=export_id).first()
    if export is None:
        return "missing"
    return build_export(export=export).state


@shared_task(name="registry.execute_erasure", acks_late=True, soft_time_limit=3600, time_limit=3700)
def execute_erasure_task(run_id: int) -> str:
    """Run or resume an approved erasure."""
    from registry.models import ErasureRun
    from registry.services import execute_erasure

    run = ErasureRun.objects.select_related("data_request").get(pk=run_id)
    return execute_erasure(data_request=run.data_request).state


@shared_task(name="registry.seal_erasure", acks_late=True)
def seal_erasure_task(run_id: int) -> bool:
    """Pseudonymise the erasure request itself (no-op if the completion mail already sealed it)."""
    from registry.models import ErasureRun
    from registry.services import seal_erasure

    run = ErasureRun.objects.filter(pk=run_id).first()
    return seal_erasure(run=run) if run is not None else False


@shared_task(
    name="registry.purge_expired_exports",
    **SCHEDULED_JOB_RETRY,
    soft_time_limit=600,
    time_limit=660,
)
def purge_expired_exports_task() -> int:
    """Delete export files whose download link has expired."""
    from registry.services import purge_expired_exports

    return purge_expired_exports()


@shared_task(
    name="registry.resume_stalled_runs",
    **SCHEDULED_JOB_RETRY,
    soft_time_limit=240,
    time_limit=270,
)
def resume_stalled_runs_task() -> dict:
    """The watchdog: queue again the exports and erasures whose worker died mid-run."""
    from registry.recovery import resume_stalled_runs

    return resume_stalled_runs()
