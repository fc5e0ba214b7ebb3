"""Fixed-window rate limits kept in the shared cache, so they hold across web processes."""

import ipaddress
import time

from django.conf import settings
from django.core.cache import cache

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'10/m' or '5/15m' -> (limit, period in seconds)."""
    count, _, per = rate.partition("/")
    per = per.strip() or "m"
    multiple = int(per[:-1]) if len(per) > 1 else 1
    return int(count), multiple * _UNITS[per[-1]]


def hit(*, scope: str, key: str, rate: str) -> bool:
    """Count one hit; True while the caller is within the rate, False once over it."""
    limit, period = parse_rate(rate)
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
