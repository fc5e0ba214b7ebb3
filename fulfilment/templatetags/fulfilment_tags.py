from django import template
from django.template.loader import render_to_string
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def fulfilment_panel(context, data_request):
    """The fulfilment part of a request's status page (export progress, download link, erasure state)."""
    from fulfilment.models import DataExport, ErasureRun

    request = context.get("request")
    user = getattr(request, "user", None)
    owner = bool(user and user.is_authenticated and data_request.user_id == user.pk)
    match = getattr(request, "resolver_match", None)
    token = (match.kwargs.get("token", "") if match else "") or ""
    suffix = "" if owner or not token else f"?t={token}"
    export = DataExport.objects.filter(data_request=data_request).first()
    run = ErasureRun.objects.filter(data_request=data_request).first()
    tasks = list(data_request.system_tasks.order_by("system_name"))
    told = list(data_request.propagations.order_by("recipient_name"))
    if export is None and run is None and not tasks and not told:
        return ""
    ctx = {
        "data_request": data_request,
        "export": export,
        "run": run,
        "tasks": tasks,
        "tasks_done": sum(t.is_settled for t in tasks),
        "told": told,
    }
    if run is not None and run.state == ErasureRun.State.COMPLETED:
        from fulfilment.services import kept_for_requester

        ctx["kept"] = kept_for_requester(run.report or {})
    if export is not None:
        ctx["download_url"] = reverse("fulfilment:export_download", args=[export.pk]) + suffix
        ctx["progress_url"] = reverse("fulfilment:export_progress", args=[export.pk]) + suffix
    return render_to_string("registry/fulfilment_panel.html", ctx, request=request)
