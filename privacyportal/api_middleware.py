"""JSON errors for every path under /api/, whatever part of Django produced them."""

import json

from django.http import HttpResponse

API_PREFIX = "/api/"
# Kept from the original answer: what a client or a browser needs to act on the error.
KEPT_HEADERS = (
    "Allow",
    "Retry-After",
    "Vary",
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Max-Age",
)
MESSAGES = {
    400: "Bad request.",
    403: "Forbidden.",
    404: "Not found.",
    405: "Method not allowed.",
    413: "Request body too large.",
    429: "Too many requests; try again later.",
}


class ApiJsonErrorsMiddleware:
    """Turn any non-JSON error answer under /api/ (Django's 404 and 500 pages, a bare 405) into JSON."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path_info.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        detail = MESSAGES.get(status) or ("Internal error; try again later." if status >= 500 else "Bad request.")
        out = HttpResponse(json.dumps({"detail": detail}), status=status, content_type="application/json")
        for name in KEPT_HEADERS:
            if name in response:
                out[name] = response[name]
        return out
