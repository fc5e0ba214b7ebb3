"""Consent API (django-ninja): record a banner choice, read a consent id's state and history.

Called cross-origin by the banner: CORS is answered only for the property's allowed origins
(and the portal's own origin), and a browser POST from any other origin is refused.
"""

import logging
import re
import uuid
from datetime import datetime
from functools import wraps
from typing import Annotated

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from ninja import Field, Path, Router, Schema, Status
from pydantic import AfterValidator, ConfigDict, StrictBool, StrictInt, StrictStr, ValidationInfo, field_validator

from consent import ratelimit as consent_ratelimit
from consent import selectors, services
from consent.models import ConsentMethod
from core import ratelimit

logger = logging.getLogger(__name__)
router = Router(tags=["consent"])

CORS_METHODS = "GET, POST, OPTIONS"
CORS_MAX_AGE = "600"
# A property's public key and a category's key are slugs (consent.models): anything else is refused unread.
KEY_PATTERN = r"^[-A-Za-z0-9_]{1,40}$"
KEY_RE = re.compile(KEY_PATTERN)
NO_NUL_PATTERN = r"^[^\x00]*$"


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store NUL in text; refuse it as bad input rather than fail at the database.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


SafeText = Annotated[StrictStr, AfterValidator(_no_nul)]
CategoryKey = Annotated[StrictStr, Field(pattern=KEY_PATTERN)]
PropertyKey = Annotated[str, Path(pattern=KEY_PATTERN, max_length=40, description="The website's public key.")]


class ChoiceIn(Schema):
    """One banner choice. Types are strict: nothing is converted (no "true" for true, no "1" for 1).

    The method `gpc` needs a Global Privacy Control signal: `gpc: true` in the body or the `Sec-GPC: 1`
    header. With a GPC signal, `accept_all` is recorded as `gpc` with targeting off; an explicit `custom`
    opt-in to targeting is kept.
    """

    model_config = ConfigDict(extra="forbid")

    consent_id: uuid.UUID = Field(..., description="The browser's consent id (a UUID) the choice is filed under.")
    revision: StrictInt = Field(
        ...,
        ge=1,
        description="The banner revision the visitor saw: from 1 to the website's current revision.",
    )
    choices: dict[CategoryKey, StrictBool] = Field(
        default_factory=dict,
        max_length=20,
        json_schema_extra={"additionalProperties": False},
        description=(
            "true or false per category key; only the website's enabled categories. `necessary` is always "
            "recorded as true; a category left out counts as false. Ignored by `accept_all` and `reject_all`."
        ),
    )
    gpc: StrictBool = Field(False, description="The browser sent a Global Privacy Control signal.")
    method: ConsentMethod = Field(..., description="How the choice was made.")
    page_url: SafeText = Field(
        "",
        max_length=2000,
        json_schema_extra={"pattern": NO_NUL_PATTERN},
        description="The page the choice was made on; kept without query string, fragment or credentials.",
    )

    @field_validator("method")
    @classmethod
    def _gpc_method_needs_a_signal(cls, method: ConsentMethod, info: ValidationInfo) -> ConsentMethod:
        # ``gpc`` is declared before ``method``, so it is validated first; the header comes with the request.
        request = (info.context or {}).get("request")
        header = request is not None and request.headers.get("Sec-GPC", "").strip() == "1"
        if method == ConsentMethod.GPC and not (info.data.get("gpc") or header):
            raise ValueError("The gpc method needs a Global Privacy Control signal (gpc: true or Sec-GPC: 1).")
        return method


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


def _origin_allowed(request, origin: str, config: dict) -> bool:
    own = f"{request.scheme}://{request.get_host()}"
    return services.origin_allowed(origin=origin, allowed=config["origins"], own_origin=own)


def _guard(view):
    """Key, rate limit, unknown property, CORS and body size, around every operation (before body parsing)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        config = None
        try:
            key = kwargs.get("key", "")
            if not KEY_RE.fullmatch(key):
                return _error(404, "Unknown property.")
            limited = request.method != "OPTIONS" and not consent_ratelimit.hit(
                scope="consent-api", key=ratelimit.client_ip(request), rate=settings.CONSENT_API_RATE_LIMIT
            )
            config = selectors.get_property_config(key)
            if config is None:
                return _error(404, "Unknown property.")
            if limited:
                response = _error(429, "Too many requests; try again later.")
                response["Retry-After"] = "60"
                return _cors(request, response, config)
            origin = request.headers.get("Origin", "")
            # No Origin header: not a cross-origin browser request, which is all that CORS guards.
            allowed = not origin or _origin_allowed(request, origin, config)
            if not allowed:
                _note_refused_origin(request, config, origin)
            if request.method == "OPTIONS":
                if "consent_id" in kwargs and not _is_uuid(kwargs["consent_id"]):
                    return _cors(request, _error(404, "Not a consent id."), config)
                response = HttpResponse(status=204 if allowed else 403)
                return _cors(request, response, config)
            if not allowed:
                return _error(403, "This origin is not allowed for this property.")
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            # Content-Length first (refused unread); the body itself too, for chunked requests without one.
            if length > settings.CONSENT_API_MAX_BODY_BYTES or (
                request.method == "POST" and not length and len(request.body) > settings.CONSENT_API_MAX_BODY_BYTES
            ):
                return _cors(
                    request, _error(413, f"Body larger than {settings.CONSENT_API_MAX_BODY_BYTES} bytes."), config
                )
            request.consent_config = config
            return _cors(request, view(request, *args, **kwargs), config)
        except Exception:
            # Errors inside the operation are answered by the API's handlers; these came from the guard itself.
            logger.exception("Consent API failed before the operation: %s %s", request.method, request.path)
            return _cors(request, _error(500, "Internal error; try again later."), config)

    return wrapper


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _note_refused_origin(request, config: dict, origin: str) -> None:
    """Remember an origin refused for this property, for staff; never in the way of the answer."""
    # Counted per client first, so a flood of preflights costs no database write beyond the limit.
    if not consent_ratelimit.hit(
        scope="consent-refused-origin", key=ratelimit.client_ip(request), rate=settings.CONSENT_API_RATE_LIMIT
    ):
        return
    try:
        services.record_refused_origin(property_pk=config["pk"], origin=origin)
    except Exception:
        logger.warning("Could not record the refused origin %r", origin[:200], exc_info=True)


def _cors(request, response, config):
    origin = request.headers.get("Origin", "")
    if config and _origin_allowed(request, origin, config):
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


RULES = (
    "Called by the banner, cross-origin: a browser request is accepted only from one of the website's "
    "allowed origins (or the portal's own origin); any other origin gets 403 and is shown to staff on the "
    "website's admin page. Requests are rate-limited per client address (429 with Retry-After)."
)


def _responses(extra: dict[int, str] | None = None) -> dict:
    # Integer status codes, as django-ninja keys its own responses: string keys would sit beside them and the
    # document would hold each status twice, which Swagger UI refuses to parse ("duplicated mapping key").
    descriptions = {
        403: "The request's Origin is not one of the website's allowed origins.",
        404: "Unknown website key.",
        422: "The request does not follow the schema, or breaks a rule of the website (see detail).",
        429: "Too many requests from this client address; try again after Retry-After seconds.",
        500: "Internal error; the request can be sent again.",
        **(extra or {}),
    }
    return {"responses": {code: {"description": text} for code, text in descriptions.items()}}


@router.post(
    "/{key}/records",
    response={
        201: RecordOut,
        400: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        413: ErrorOut,
        422: ErrorOut,
        429: ErrorOut,
        500: ErrorOut,
    },
    summary="Record a banner choice",
    description=(
        "Append a choice to the proof-of-consent log. `Sec-GPC: 1` turns targeting off unless explicitly "
        "chosen. The body is at most CONSENT_API_MAX_BODY_BYTES (8192 by default) bytes. " + RULES
    ),
    openapi_extra=_responses(
        {
            400: "The body is not JSON.",
            413: "The body is larger than the limit in bytes (CONSENT_API_MAX_BODY_BYTES, 8192 by default).",
        }
    ),
)
@_decorate
def create_record(request, key: PropertyKey, payload: ChoiceIn):
    """Append a choice to the proof-of-consent log."""
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
    response={200: RecordOut, 404: ErrorOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut, 500: ErrorOut},
    summary="Current state of a consent id",
    description="The latest choice recorded under this consent id on this website. " + RULES,
    openapi_extra=_responses({404: "Unknown website key, or no choice recorded under this consent id."}),
)
@_decorate
def read_consent(request, key: PropertyKey, consent_id: uuid.UUID):
    """The latest choice recorded under this consent id on this property."""
    config = request.consent_config
    record = selectors.get_current_consent(property_pk=config["pk"], consent_id=consent_id)
    if record is None:
        return Status(404, {"detail": "No consent recorded under this id."})
    return Status(200, _out(record, config))


@router.get(
    "/{key}/consents/{consent_id}/history",
    response={200: list[RecordOut], 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut, 500: ErrorOut},
    summary="History of a consent id",
    description="Every choice recorded under this consent id on this website, oldest first. " + RULES,
    openapi_extra=_responses(),
)
@_decorate
def consent_history(request, key: PropertyKey, consent_id: uuid.UUID):
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
def consent_preflight(request, key: str, consent_id: uuid.UUID):
    return HttpResponse(status=204)


@router.api_operation(["OPTIONS"], "/{key}/consents/{consent_id}/history", include_in_schema=False)
@_decorate
def history_preflight(request, key: str, consent_id: uuid.UUID):
    return HttpResponse(status=204)
