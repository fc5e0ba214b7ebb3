from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from policies.selectors import list_pending_acceptances, requirements_stamp

SESSION_KEY = "policies_accepted_stamp"

# Reachable without accepting: reading the policies themselves, logging out, static files and the
# banner script, the JSON API, and exercising one's rights (data requests, deleting the account),
# which must never depend on agreeing to new terms.
EXEMPT_PREFIXES = ("/privacy/", "/accounts/logout/", "/api/", "/consent/", "/requests/", "/account/delete/", "/favicon")


class PolicyAcceptanceMiddleware:
    """Sends account holders to accept a materially changed policy before they continue."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or self._exempt(request):
            return None
        stamp = requirements_stamp()
        if not stamp or request.session.get(SESSION_KEY) == stamp:
            return None
        if list_pending_acceptances(user=user):
            query = urlencode({"next": request.get_full_path()}) if request.method == "GET" else ""
            return redirect(reverse("policies:accept") + (f"?{query}" if query else ""))
        # Remember the check so that later requests cost no query until the requirements change.
        request.session[SESSION_KEY] = stamp
        return None

    @staticmethod
    def _exempt(request) -> bool:
        path = request.path_info
        if path.startswith((settings.STATIC_URL, settings.MEDIA_URL, *EXEMPT_PREFIXES)):
            return True
        return path.startswith("/admin/") and request.user.is_staff
