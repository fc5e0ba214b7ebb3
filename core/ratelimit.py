"""Fixed-window rate limits kept in the shared cache, so they hold across web processes."""

import ipaddress
import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Seconds between two warnings of the same kind while the cache is down: an outage under load would
# otherwise write one line per request.
WARN_EVERY = 10.0
_last_warning: dict[str, float] = {}


def warn_cache_unreachable(what: str, exc: BaseException) -> None:
    """Log that the shared cache failed and what was done instead; at most once per WARN_EVERY seconds per kind."""
    now = time.monotonic()
    if now - _last_warning.get(what, -WARN_EVERY) < WARN_EVERY:
        return
    _last_warning[what] = now
    logger.warning("The shared cache is unreachable (%s: %s); %s", type(exc).__name__, exc, what)


def parse_rate(rate: str) -> tuple[int, int]:
    """'10/m' or '5/15m' -> (limit, period in seconds)."""
    count, _, per = rate.partition("/")
    per = per.strip() or "m"
    multiple = int(per[:-1]) if len(per) > 1 else 1
    return int(count), multiple * _UNITS[per[-1]]


def hit(*, scope: str, key: str, rate: str) -> bool:
    """Count one hit; True while the caller is within the rate, False once over it.

    Fails open: while the cache is unreachable every hit is allowed (and a warning logged), so an
    outage of the cache never stops the work the limit protects.
    """
    limit, period = parse_rate(rate)
    try:
        return _count(scope=scope, key=key, limit=limit, period=period)
    except Exception as exc:
        warn_cache_unreachable("rate limits are not enforced until it is back", exc)
        return True


def _count(*, scope: str, key: str, limit: int, period: int) -> bool:
    window = int(time.time() // period)
    cache_key = f"rl:{scope}:{key}:{window}"
    if cache.add(cache_key, 1, period + 5):
        return limit >= 1
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, period + 5)
        count = 1
    return count <= limit


def email_key(email: str) -> str:
    """The rate-limit key of an address: case and a "+tag" do not make it another address.

    ``Name+7@Example.com`` and ``name@example.com`` reach the same mailbox, so they share one limit.
    """
    local, at, domain = email.strip().casefold().rpartition("@")
    if not at:
        return domain
    return f"{local.split('+', 1)[0] or local}@{domain}"


def client_key(request) -> str:
    """The rate-limit key of a client: its IPv4 address, or its IPv6 /64 (one subscriber's whole network)."""
    address = client_ip(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is the IPv4 client 192.0.2.1
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def client_ip(request) -> str:
    """The client's address, trusting X-Forwarded-For only for the configured number of proxies."""
    if settings.NUM_PROXIES:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= settings.NUM_PROXIES:
            return forwarded[-settings.NUM_PROXIES]
    return request.META.get("REMOTE_ADDR", "")
