from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from core.ratelimit import client_ip
from policies import selectors, services
from policies.forms import AcceptanceForm
from policies.middleware import SESSION_KEY
from policies.models import DocumentKind
from policies.rendering import diff_lines, diff_stats, render_markdown


def document(request, kind: str):
    """The version of a document in force now."""
    version = selectors.get_version_in_force(kind=kind)
    context = {
        "kind": kind,
        "kind_label": DocumentKind(kind).label,
        "version": version,
        "upcoming": selectors.get_upcoming_version(kind=kind),
    }
    if version is None:
        return render(request, "policies/document.html", context, status=404)
    context["body"] = render_markdown(version.body)
    return render(request, "policies/document.html", context)


def history(request):
    """Every published version of every document, each with what changed since the one before."""
    wanted = request.GET.get("document")
    documents = selectors.list_documents()
    if wanted:
        if wanted not in DocumentKind.values:
            raise Http404("No such document")
        documents = [d for d in documents if d.kind == wanted]
    sections = []
    for doc in documents:
        entries = []
        for version, previous in selectors.list_version_history(document=doc):
            rows = diff_lines(previous.body, version.body) if previous else []
            entries.append({"version": version, "previous": previous, "diff": rows, "stats": diff_stats(rows)})
        sections.append({"document": doc, "entries": entries})
    return render(request, "policies/history.html", {"sections": sections, "kinds": DocumentKind.choices})


def version_detail(request, kind: str, number: int):
    """One published version in full, current or not."""
    version = selectors.get_published_version(kind=kind, number=number)
    if version is None:
        raise Http404("No such version")
    return render(
        request,
        "policies/version.html",
        {"version": version, "body": render_markdown(version.body), "document": version.document},
    )


@login_required
@require_http_methods(["GET", "POST"])
def accept(request):
    """Ask an account holder to accept the material changes they have not yet accepted."""
    pending = selectors.list_pending_acceptances(user=request.user)
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = "/"
    if not pending:
        return redirect(next_url)
    form = AcceptanceForm(request.POST or None, initial={"next": next_url})
    if request.method == "POST" and form.is_valid():
        for version in pending:
            services.accept_version(user=request.user, version=version, ip=client_ip(request))
        request.session.pop(SESSION_KEY, None)
        return redirect(next_url)
    entries = []
    for version in pending:
        previous = selectors.get_compared_version(version=version)
        rows = diff_lines(previous.body, version.body) if previous else []
        entries.append({"version": version, "previous": previous, "diff": rows})
    return render(
        request,
        "policies/accept.html",
        {"entries": entries, "form": form, "next": next_url},
    )
