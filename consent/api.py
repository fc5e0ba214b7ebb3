"""Consent API (django-ninja): record a banner choice, read a consent id's state and history.

Called cross-origin by the banner: CORS is answered only for the property's allowed origins
(and the portal's own origin), and a browser POST from any other origin is refused.
"""

import uuid
from datetime import datetime
from functools import wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from ninja import Field, Router, Schema, Status

from consent import ratelimit as consent_ratelimit
from consent import selectors, services
from consent.models import ConsentMethod
from core import ratelimit

router = Router(tags=["consent"])

CORS_METHODS = "GET, POST, OPTIONS"
CORS_MAX_AGE = "600"


class ChoiceIn(Schema):
    consent_id: uuid.UUID
    revision: int = Field(..., ge=1)
    choices: dict[str, bool] = Field(default_factory=dict, max_length=20)
    method: ConsentMethod
    page_url: str = Field("", max_length=2000)
    gpc: bool = False


class RecordOut(Schema):
    consent_id: uuid.UUID
    revision: int
    choices: dict[str, bool]
    method: str
    gpc: bool
    created_at: datetime
    current_revision: bool = True


class ErrorOut(Schema):
    detail: str | list


def _error(status: int, detail) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def _same_origin(request, origin: str) -> bool:
    return origin == f"{request.scheme}://{request.get_host()}"


def _guard(view):
    """Rate limit, body size, unknown property and CORS, around every operation (before body parsing)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "OPTIONS" and not consent_ratelimit.hit(
            scope="consent-api", key=ratelimit.client_ip(request), rate=settings.CONSENT_API_RATE_LIMIT
        ):
            response = _error(429, "Too many requests; try again later.")
            response["Retry-After"] = "60"
            return _cors(request, response, None)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        # Content-Length first (refused unread); the body itself too, for chunked requests without one.
        if length > settings.CONSENT_API_MAX_BODY_BYTES or (
            request.method == "POST" and not length and len(request.body) > settings.CONSENT_API_MAX_BODY_BYTES
        ):
            return _error(413, f"Body larger than {settings.CONSENT_API_MAX_BODY_BYTES} bytes.")
        config = selectors.get_property_config(kwargs.get("key", ""))
        if config is None:
            return _error(404, "Unknown property.")
        origin = request.headers.get("Origin", "")
        allowed = not origin or origin in config["origins"] or _same_origin(request, origin)
        if request.method == "OPTIONS":
            response = HttpResponse(status=204 if allowed else 403)
            return _cors(request, response, config)
        if not allowed:
            return _error(403, "This origin is not allowed for this property.")
        request.consent_config = config
        return _cors(request, view(request, *args, **kwargs), config)

    return wrapper


def _cors(request, response, config):
    origin = request.headers.get("Origin", "")
    if origin and config and (origin in config["origins"] or _same_origin(request, origin)):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = CORS_METHODS
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = CORS_MAX_AGE
    response["Vary"] = "Origin"
    return response


def _out(record, config) -> dict:
    return {
        "consent_id": record.consent_id,
        "revision": record.revision,
        "choices": record.choices,
        "method": record.method,
        "gpc": record.gpc,
        "created_at": record.created_at,
        "current_revision": record.revision == config["revision"],
    }


def _decorate(func):
    from ninja.decorators import decorate_view

    return decorate_view(_guard)(func)


@router.post(
    "/{key}/records",
    response={201: RecordOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 413: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Record a banner choice",
)
@_decorate
def create_record(request, key: str, payload: ChoiceIn):
    """Append a choice to the proof-of-consent log. `Sec-GPC: 1` turns targeting off unless explicitly chosen."""
    config = request.consent_config
    gpc = payload.gpc or request.headers.get("Sec-GPC", "").strip() == "1"
    try:
        record = services.record_consent(
            property_key=key,
            consent_id=payload.consent_id,
            revision=payload.revision,
            choices=payload.choices,
            method=payload.method,
            user=request.user if request.user.is_authenticated else None,
            ip=ratelimit.client_ip(request),
            user_agent=request.headers.get("User-Agent", ""),
            page_url=payload.page_url,
            gpc=gpc,
            config=config,
        )
    except ValidationError as exc:
        errors = [
            {"loc": ["body", "payload", field], "msg": " ".join(msgs), "type": "value_error"}
            for field, msgs in exc.message_dict.items()
        ]
        return Status(422, {"detail": errors})
    # The hot path of the banner: serialise directly (same shape as RecordOut) rather than re-validate.
    return JsonResponse(_out(record, config), status=201)


@router.get(
    "/{key}/consents/{consent_id}",
    response={200: RecordOut, 404: ErrorOut, 403: ErrorOut, 429: ErrorOut},
    summary="Current state of a consent id",
)
@_decorate
def read_consent(request, key: str, consent_id: uuid.UUID):
    """The latest choice recorded under this consent id on this property."""
    config = request.consent_config
    record = selectors.get_current_consent(property_pk=config["pk"], consent_id=consent_id)
    if record is None:
        return Status(404, {"detail": "No consent recorded under this id."})
    return Status(200, _out(record, config))


@router.get(
    "/{key}/consents/{consent_id}/history",
    response={200: list[RecordOut], 403: ErrorOut, 404: ErrorOut, 429: ErrorOut},
    summary="History of a consent id",
)
@_decorate
def consent_history(request, key: str, consent_id: uuid.UUID):
    """Every choice recorded under this consent id on this property, oldest first."""
    config = request.consent_config
    records = selectors.get_consent_history(property_pk=config["pk"], consent_id=consent_id)
    return Status(200, [_out(r, config) for r in records])


@router.api_operation(["OPTIONS"], "/{key}/records", include_in_schema=False)
@_decorate
def records_preflight(request, key: str):
    return HttpResponse(status=204)


@router.api_operation(["OPTIONS"], "/{key}/consents/{consent_id}", include_in_schema=False)
@_decorate
def consent_preflight(request, key: str, consent_id: str):
    return HttpResponse(status=204)


@router.api_operation(["OPTIONS"], "/{key}/consents/{consent_id}/history", include_in_schema=False)
@_decorate
def history_preflight(request, key: str, consent_id: str):
    return HttpResponse(status=204)
