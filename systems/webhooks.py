"""The signed webhook contract with the organisation's HTTP systems (README, "Connected systems over HTTP").

The portal sends ``POST {url}/{action}`` with a JSON body and the header
``Privacy-Portal-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``, keyed with the raw UTF-8
value of the environment variable the declaration names (``secret_env``). Callbacks to the portal are signed the
same way, and refused when the signature is wrong or more than five minutes old.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from systems.engine import SystemUnavailable
from systems.models import ExternalSystem

HEADER = "Privacy-Portal-Signature"
TOLERANCE = 300  # seconds a signature stays valid: a replay after that is refused by its timestamp alone
MAX_ANSWER = 50 * 1024 * 1024  # an answer larger than this is refused rather than read into memory


def signing_key(system: ExternalSystem) -> bytes:
    """The system's signing key, from the environment variable its declaration names."""
    value = os.environ.get(system.secret_env, "") if system.secret_env else ""
    if not value:
        raise SystemUnavailable(system.name, f"signing key variable {system.secret_env or '(none)'} is not set")
    return value.encode("utf-8")


def sign(key: bytes, body: bytes, *, at: int | None = None) -> str:
    """The header value for ``body``: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``."""
    t = int(time.time()) if at is None else at
    digest = hmac.new(key, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify(key: bytes, body: bytes, header: str, *, now: float | None = None) -> int | None:
    """The signature's timestamp if ``header`` signs ``body`` with ``key`` and is fresh; None otherwise."""
    pairs = [part.strip().split("=", 1) for part in (header or "").split(",") if "=" in part]
    t = next((v for k, v in pairs if k == "t"), "")
    if not t.isdigit():
        return None
    now = time.time() if now is None else now
    if abs(now - int(t)) > TOLERANCE:
        return None
    want = hmac.new(key, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    if any(k == "v1" and hmac.compare_digest(v, want) for k, v in pairs):
        return int(t)
    return None


@dataclass
class Answer:
    """What an HTTP system said: 200 with a result, or 202 (a signed callback follows)."""

    status: int
    body: dict

    @property
    def accepted(self) -> bool:
        return self.status == 202


def post_action(system: ExternalSystem, action: str, payload: dict) -> Answer:
    """Send one signed action to the system. Connection failures, timeouts and 5xx answers raise
    ``SystemUnavailable`` (retryable); a 4xx or an answer that is not JSON too, with what it said."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    request = urllib.request.Request(
        f"{system.url.rstrip('/')}/{action}",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", HEADER: sign(signing_key(system), body)},
    )
    try:
        with urllib.request.urlopen(request, timeout=system.timeout or 30) as response:  # noqa: S310 - declared URL
            status, raw = response.status, response.read(MAX_ANSWER + 1)
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read(64 * 1024)
    except TimeoutError:
        raise SystemUnavailable(system.name, "timeout") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ConnectionRefusedError):
            raise SystemUnavailable(system.name, "connection refused") from None
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise SystemUnavailable(system.name, "timeout") from None
        raise SystemUnavailable(system.name, "connection lost") from None
    except OSError:
        raise SystemUnavailable(system.name, "connection lost") from None
    if status >= 500:
        raise SystemUnavailable(system.name, "timeout" if status == 504 else "service unavailable")
    if status not in (200, 202):
        raise SystemUnavailable(system.name, f"refused the request (HTTP {status})")
    if len(raw) > MAX_ANSWER:
        raise SystemUnavailable(system.name, "answer too large")
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        raise SystemUnavailable(system.name, "answer is not JSON") from None
    if not isinstance(answer, dict):
        raise SystemUnavailable(system.name, "answer is not a JSON object")
    return Answer(status=status, body=answer)
