"""The JSON API under /api/ (django-ninja); each app contributes a router.

Every answer under /api/ is JSON, errors included: the exception handlers here cover what goes wrong
inside an operation, and ``privacyportal.api_middleware`` whatever Django answers around it
(unknown paths, wrong methods, errors in other middleware).
"""

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from ninja import NinjaAPI

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Privacy Portal API",
    version="1",
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    description='Every answer is JSON. Errors are `{"detail": ...}` with a 4xx status for bad input.',
)


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return api.create_response(request, {"detail": "Forbidden."}, status=403)


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    return api.create_response(request, {"detail": "Request body too large."}, status=413)


@api.exception_handler(SuspiciousOperation)
def _suspicious(request, exc):
    return api.create_response(request, {"detail": "Bad request."}, status=400)


@api.exception_handler(Exception)
def _unexpected(request, exc):
    # Logged with its traceback for the operators; the caller learns nothing about the internals.
    logger.exception("Unexpected error in %s %s", request.method, request.path)
    return api.create_response(request, {"detail": "Internal error; try again later."}, status=500)


from consent.api import router as consent_router  # noqa: E402

api.add_router("/consent/", consent_router)
