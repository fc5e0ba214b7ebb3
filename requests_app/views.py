"""Requester-facing pages: intake, verification, status (by account or secret link), result files."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from accounts.selectors import owns_verified_email
from core import ratelimit
from core.decorators import secret_url
from requests_app import selectors, services
from requests_app.forms import KIND_EXPLANATIONS, DataRequestForm, MessageForm
from requests_app.models import (
    PUBLIC_EVENT_KINDS,
    DataRequest,
    EventKind,
    RequestKind,
    RequestStatus,
    requester_status_label,
)

SUBMITTED_SESSION_KEY = "requests_app:submitted"
# Room for the intake form's text fields and the multipart framing on top of the attachment itself.
INTAKE_BODY_ALLOWANCE = 64 * 1024


def recently_authenticated(request) -> bool:
    """True if the session's user signed in (or re-authenticated) within ACCOUNT_REAUTHENTICATION_TIMEOUT."""
    records = request.session.get("account_authentication_methods") or []
    stamps = [r.get("at") for r in records if isinstance(r, dict) and isinstance(r.get("at"), int | float)]
    return bool(stamps) and time.time() - max(stamps) < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT


def _identity_verified(request, email: str) -> bool:
    user = request.user
    return user.is_authenticated and recently_authenticated(request) and owns_verified_email(user=user, email=email)


def _intake_initial(request) -> dict:
    if not request.user.is_authenticated:
        return {}
    return {
        "requester_name": f"{request.user.first_name} {request.user.last_name}".strip(),
        "requester_email": request.user.email,
    }


def _intake_body_too_large(request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.DSR_ATTACHMENT_MAX_BYTES + INTAKE_BODY_ALLOWANCE


# CSRF is checked by ``_new_request``: the middleware's check would read, and spool to disk, the whole body
# before the size could be looked at.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def new_request(request):
    """The intake form, for anonymous requesters and account holders alike; an oversized body is not read."""
    if request.method == "POST" and _intake_body_too_large(request):
        limit = filesizeformat(settings.DSR_ATTACHMENT_MAX_BYTES)
        context = _form_context(DataRequestForm(initial=_intake_initial(request)))
        context["upload_error"] = _(
            "The file is too large (at most %(limit)s), so nothing was received. "
            "Please fill in the form again with a smaller file."
        ) % {"limit": limit}
        return render(request, "requests_app/new.html", context, status=413)
    return _new_request(request)


@csrf_protect
def _new_request(request):
    initial = _intake_initial(request)
    if request.method == "POST":
        form = DataRequestForm(request.POST, request.FILES, initial=initial)
        if request.POST.get("website"):
            # A bot filled the hidden field: answer as if all went well, store nothing.
            request.session[SUBMITTED_SESSION_KEY] = {"reference": "", "duplicate": False}
            return redirect("requests_app:submitted")
        if form.is_valid():
            data = form.cleaned_data
            email = data["requester_email"].lower()
            # Only tie the request to the account when the address is one of its own verified ones:
            # otherwise a signed-in person could read the answer to a request about someone else.
            owner = request.user if owns_verified_email(user=request.user, email=email) else None
            if not services.intake_within_rate(client=ratelimit.client_key(request), email=email, owner=owner):
                form.add_error(None, _("Too many requests were sent from here. Please try again in an hour."))
                return render(request, "requests_app/new.html", _form_context(form), status=429)
            verified = _identity_verified(request, data["requester_email"])
            data_request, created = services.submit_request(
                name=data["requester_name"],
                email=data["requester_email"],
                kind=data["kind"],
                jurisdiction=data["jurisdiction"],
                relationship=data["relationship"],
                details=data["details"],
                user=owner,
                attachment=data["attachment"],
                language=get_language() or settings.LANGUAGE_CODE,
                identity_verified=verified,
            )
            if selectors.requester_access(data_request=data_request, user=request.user) == "session":
                if not created:  # only ever for the address's verified owner (see submit_request)
                    messages.info(request, _("You already had an open request of this type; we added this to it."))
                return redirect(data_request.get_absolute_url())
            # An unverified sender always gets a request of their own: this page names only its reference
            # and says nothing of any other request from the address.
            request.session[SUBMITTED_SESSION_KEY] = {"reference": data_request.reference, "duplicate": False}
            return redirect("requests_app:submitted")
    else:
        form = DataRequestForm(initial=initial)
    return render(request, "requests_app/new.html", _form_context(form))


def _form_context(form) -> dict:
    return {"form": form, "kinds": [(RequestKind(k).label, text) for k, text in KIND_EXPLANATIONS.items()]}


def submitted(request):
    """Confirmation after intake: the reference and what happens next."""
    info = request.session.get(SUBMITTED_SESSION_KEY)
    if not info:
        return redirect("requests_app:new")
    return render(request, "requests_app/submitted.html", {"info": info})


VERIFY_FAILURES = {
    "invalid": _lazy("This verification link is not valid."),
    "expired": _lazy("This verification link has expired."),
    "used": _lazy("This verification link has already been used."),
    "locked": _lazy("This link was tried too many times; ask for a new one."),
    "closed": _lazy("This request is closed and can no longer be verified."),
}


@secret_url
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request, token: str):
    """The e-mailed verification link: opening it shows a Confirm button, and only that POST verifies.

    Mail scanners open links (HEAD, GET, several times, without cookies): opening changes nothing, not
    even the token's attempt count. Opening the link again after it worked shows "already verified".
    """
    if request.method == "POST":
        if request.POST.get("action") == "resend":
            return _resend(request, token)
        return _confirm(request, token)
    if request.method == "HEAD":
        return HttpResponse(content_type="text/html; charset=utf-8")
    state, data_request = selectors.verification_link_state(token=token)
    if state == "verified":
        return _verified_page(request, data_request, newly=False)
    if state != "pending":
        return _verify_failed(request, token, state, str(VERIFY_FAILURES[state]))
    return render(request, "requests_app/verify_confirm.html", {"data_request": data_request})


def _confirm(request, token: str):
    try:
        data_request, newly = services.verify_with_token(token=token)
    except ValidationError as exc:
        return _verify_failed(request, token, exc.code, exc.messages[0])
    return _verified_page(request, data_request, newly=newly)


def _verify_failed(request, token: str, code: str, error: str):
    context = {"error": error, "code": code, "token": token}
    return render(request, "requests_app/verify_failed.html", context, status=400)


def _verified_page(request, data_request: DataRequest, *, newly: bool):
    # Whoever holds the e-mailed link may follow the request, the first time and after. A repeat
    # submission was added to the address's open request once verified: they follow that one.
    linked_from = data_request if data_request.merged_into_id else None
    if linked_from is not None:
        data_request = data_request.merged_into
    status_url = reverse("requests_app:status", kwargs={"token": services.make_status_token(data_request)})
    context = {"data_request": data_request, "newly": newly, "status_url": status_url, "linked_from": linked_from}
    return render(request, "requests_app/verified.html", context)


def _resend(request, token: str):
    _state, data_request = selectors.verification_link_state(token=token)
    if data_request is not None:
        services.resend_verification(data_request=data_request)
    # The same answer whatever happened, so the form tells nothing about other people's requests.
    messages.info(request, _("If the request still needs verifying, a new link is on its way."))
    return redirect("requests_app:new")


@login_required
def my_requests(request):
    """The signed-in user's requests."""
    return render(request, "requests_app/mine.html", {"requests": selectors.requests_for_user(user=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def detail(request, reference: str):
    """Status page for the request's owner."""
    data_request = selectors.get_request_for_owner(user=request.user, reference=reference)
    if data_request is None:
        raise Http404
    target = data_request.merged_into
    if target is not None and selectors.requester_access(data_request=target, user=request.user) == "session":
        return redirect(target.get_absolute_url())
    return _status_page(request, data_request, via_token=None)


@secret_url
@require_http_methods(["GET", "POST"])
def status_by_token(request, token: str):
    """Status page reached through the secret link in the acknowledgement mail."""
    data_request = selectors.get_request_for_status_token(token=token)
    if data_request is None:
        raise Http404
    if data_request.merged_into is not None:
        # Folded in only after its sender proved they control the address, which also has this link.
        target_token = services.make_status_token(data_request.merged_into)
        return redirect("requests_app:status", token=target_token)
    return _status_page(request, data_request, via_token=token)


def _status_page(request, data_request: DataRequest, *, via_token: str | None):
    form = MessageForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "withdraw":
            try:
                services.withdraw_request(data_request=data_request, actor=_requester_actor(request, data_request))
                messages.success(request, _("Your request has been withdrawn."))
            except ValidationError as exc:
                messages.error(request, exc.messages[0])
            return redirect(request.path)
        form = MessageForm(request.POST)
        if form.is_valid():
            client = ratelimit.client_key(request)
            if not data_request.is_open or services.message_within_rate(data_request=data_request, client=client):
                try:
                    services.post_message(
                        data_request=data_request,
                        body=form.cleaned_data["body"],
                        author=_requester_actor(request, data_request),
                        from_staff=False,
                    )
                except ValidationError as exc:
                    messages.error(request, exc.messages[0])
                else:
                    messages.success(request, _("Your message was sent."))
                return redirect(request.path)
            # The bound form goes back to the page, so the text is still there to send later.
            form.add_error(
                None,
                _(
                    "Too many messages were sent about this request in a short time. Please try again in an hour; "
                    "your message is kept below."
                ),
            )
            status = 429
    data_request.refresh_from_db()
    files = list(selectors.result_files(data_request=data_request))
    for f in files:
        if via_token:
            f.url = reverse("requests_app:status_file", kwargs={"token": via_token, "file_id": f.pk})
        else:
            f.url = reverse("requests_app:file", kwargs={"reference": data_request.reference, "file_id": f.pk})
    context = {
        "data_request": data_request,
        "events": [_timeline_entry(e) for e in data_request.events.filter(verb__in=PUBLIC_EVENT_KINDS)],
        "thread": data_request.messages.all(),
        "files": files,
        "form": form,
        "withdrawable": data_request.is_open,
        "statuses": RequestStatus,
    }
    return render(request, "requests_app/status.html", context, status=status)


def _timeline_entry(event) -> dict:
    """One line of the requester's timeline, from an audit event of their request."""
    if event.verb == EventKind.STATUS:
        text = _("Status changed from “%(old)s” to “%(new)s”.") % {
            "old": requester_status_label(event.old),
            "new": requester_status_label(event.new),
        }
    elif event.verb == EventKind.CREATED:
        text = _("Request received.")
    elif event.verb == EventKind.EXTENDED:
        text = _("Deadline extended from %(old)s to %(new)s.") % {"old": event.old, "new": event.new}
    elif event.verb == EventKind.LINKED:
        text = _("The same request was submitted again and added here.")
    elif event.verb == EventKind.FILE:
        text = _("File added: %(name)s.") % {"name": event.new}
    else:
        text = EventKind(event.verb).label if event.verb in EventKind.values else event.verb
    return {"when": event.created_at, "text": text}


def _requester_actor(request, data_request: DataRequest):
    if selectors.requester_access(data_request=data_request, user=request.user) == "session":
        return request.user
    return "requester"


def _serve(data_request: DataRequest, file_id: int):
    row = selectors.result_files(data_request=data_request).filter(pk=file_id).first()
    if row is None:
        raise Http404
    try:
        handle = row.file.open("rb")
    except FileNotFoundError:
        raise Http404
    response = FileResponse(handle, as_attachment=True, filename=row.name, content_type=row.content_type or None)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def file_for_owner(request, reference: str, file_id: int):
    """A result file, for the request's owner only."""
    data_request = selectors.get_request_for_owner(user=request.user, reference=reference)
    if data_request is None:
        raise Http404
    return _serve(data_request, file_id)


@secret_url
def file_by_token(request, token: str, file_id: int):
    """A result file, through the secret status link."""
    data_request = selectors.get_request_for_status_token(token=token)
    if data_request is None:
        raise Http404
    return _serve(data_request, file_id)


@staff_member_required
def metrics(request):
    """Staff metrics live in admin; this short URL leads there."""
    return redirect("admin:requests_app_datarequest_metrics")
