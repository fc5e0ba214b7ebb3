from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from consent import selectors, services
from consent.banner import get_banner_script
from consent.forms import EmailPreferencesForm, PurposeChoiceForm
from consent.models import Property, Purpose, PurposeConsentSource
from core.decorators import secret_url


def _codings(accept_encoding: str) -> set[str]:
    # Content codings the client accepts (q=0 refuses one), lower-cased.
    accepted = set()
    for part in accept_encoding.lower().split(","):
        name, _sep, params = part.strip().partition(";")
        q = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
        try:
            if float(q) > 0:
                accepted.add(name.strip())
        except ValueError:
            continue
    return accepted


def banner_js(request, key: str):
    """The banner script with the property's configuration inlined; no database query once cached.

    Compressed, cached by browsers and CDNs for the propagation window, and free of cookies.
    """
    built = get_banner_script(key)
    if built is None:
        response = HttpResponse("/* unknown property */", content_type="application/javascript", status=404)
        response["Cache-Control"] = "no-store"
        response.public_asset = True
        return response
    codings = _codings(request.headers.get("Accept-Encoding", ""))
    if built.br is not None and "br" in codings:
        body, coding = built.br, "br"
    elif "gzip" in codings or "*" in codings:
        body, coding = built.gzip, "gzip"
    else:
        body, coding = built.body, ""
    # One validator per coding (RFC 9110 8.8.3); any of them proves the client holds this build.
    etag = f'"{built.etag}{"-" + coding if coding else ""}"'
    inm = request.headers.get("If-None-Match", "")
    if built.etag in inm or inm.strip() == "*":
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
        if coding:
            response["Content-Encoding"] = coding
    response["ETag"] = etag
    # Browsers and CDNs reuse the script for the propagation window without asking again; a new revision
    # reaches every visitor within that window (a CDN's copy counts against it through the Age header).
    response["Cache-Control"] = f"public, max-age={settings.CONSENT_BANNER_PROPAGATION_SECONDS}"
    response["Vary"] = "Accept-Encoding"
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.public_asset = True
    return response


def _declaration_page(request, prop: Property):
    return render(
        request,
        "consent/cookies.html",
        {
            "prop": prop,
            "groups": selectors.list_declarations(prop=prop),
            "vendors": selectors.list_vendors(prop=prop),
            "is_portal": prop.key == selectors.get_portal_property_key(),
            # The choice lives in that website's own cookie: its banner opens its settings at this address.
            "settings_url": f"{prop.origins()[0]}/#cookie-settings" if prop.origins() else "",
        },
    )


def cookies(request):
    """The cookie declaration of the portal's own website."""
    prop = selectors.get_portal_property()
    if prop is None:
        return render(request, "consent/cookies.html", {"prop": None, "groups": [], "vendors": []})
    return _declaration_page(request, prop)


def property_cookies(request, key: str):
    """The cookie declaration of one website."""
    prop = selectors.get_property(key=key)
    if prop is None:
        raise Http404
    return _declaration_page(request, prop)


def third_parties(request):
    """The third parties that receive data or set cookies."""
    return render(request, "consent/third_parties.html", {"vendors": selectors.list_vendors()})


@login_required
@require_http_methods(["GET", "POST"])
def account_consents(request):
    """Grant or withdraw each purpose; both are one button."""
    if request.method == "POST":
        form = PurposeChoiceForm(request.POST)
        if form.is_valid():
            try:
                services.set_purpose_consent(
                    user=request.user,
                    purpose=form.cleaned_data["purpose"],
                    granted=form.cleaned_data["action"] == "grant",
                    source=PurposeConsentSource.ACCOUNT,
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(
                    request,
                    _("Your consent was recorded.")
                    if form.cleaned_data["action"] == "grant"
                    else _("Your consent was withdrawn."),
                )
            return redirect("consent:account_consents")
        messages.error(request, _("That choice could not be recorded."))
    return render(
        request,
        "consent/account_consents.html",
        {
            "states": selectors.list_purpose_states(user=request.user),
            "history": selectors.list_purpose_history(user=request.user)[:100],
            "told": selectors.list_recipients_told(user=request.user)[:50],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def email_preferences(request):
    """Marketing e-mail on or off; service e-mails are listed as always sent."""
    subscribed = selectors.has_consent(user=request.user, purpose=Purpose.MARKETING)
    form = EmailPreferencesForm(request.POST if request.method == "POST" else None, initial={"marketing": subscribed})
    if request.method == "POST" and form.is_valid():
        services.set_marketing_subscription(user=request.user, subscribed=form.cleaned_data["marketing"])
        messages.success(request, _("Your e-mail preferences were saved."))
        return redirect("consent:email_preferences")
    return render(request, "consent/email_preferences.html", {"form": form, "subscribed": subscribed})


# Mail clients POST "List-Unsubscribe=One-Click" with no session and no CSRF token (RFC 8058);
# the signed token is the proof, and unsubscribing is the only thing it can do.
@secret_url
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET shows a confirmation page; POST unsubscribes without login."""
    try:
        user_id, purpose = services.read_unsubscribe_token(token)
    except ValidationError:
        return render(request, "consent/unsubscribe.html", {"invalid": True}, status=400)
    if request.method == "POST":
        services.unsubscribe(token=token)
        return render(request, "consent/unsubscribe.html", {"done": True})
    return render(request, "consent/unsubscribe.html", {"token": token})
