"""The consent API's per-IP limit: core.ratelimit's fixed window, made cheap for the banner's write path.

With Django's Redis cache, ``core.ratelimit.hit`` costs three round trips (SET NX, EXISTS, INCR) and a
new client per call. Here the same key and window are counted with a pipelined INCRBY + EXPIRE, and
while a key is far below its limit each process batches a few hits before it writes (at most
``BATCH`` hits, and never more than a twentieth of the limit). A key near its limit is counted on
every hit, so the limit holds across processes within ``processes x batch`` hits per window.
Other cache backends go through ``core.ratelimit.hit`` unchanged. Both fail open while the cache is
unreachable (a warning is logged).
"""

import threading
import time

from django.core.cache import caches

from core import ratelimit

BATCH = 20
FLUSH_SECONDS = 1.0

_lock = threading.Lock()
_thread = threading.local()
# cache key -> [hits not yet written, count last seen in Redis, monotonic time of the last write]
_pending: dict[str, list] = {}


def _redis():
    """(client, backend) when the default cache is Django's Redis backend, else None; one client per thread."""
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    if getattr(_thread, "backend", None) is not backend:
        _thread.client = backend._cache.get_client(write=True)
        _thread.backend = backend
    return _thread.client, backend


def hit(*, scope: str, key: str, rate: str) -> bool:
    """Count one hit; True while within the rate (same key, window and limit as core.ratelimit.hit)."""
    found = _redis()
    if found is None:
        return ratelimit.hit(scope=scope, key=key, rate=rate)
    client, backend = found
    limit, period = ratelimit.parse_rate(rate)
    window = int(time.time() // period)
    cache_key = backend.make_and_validate_key(f"rl:{scope}:{key}:{window}")
    batch = min(BATCH, limit // 20)
    now = time.monotonic()
    with _lock:
        entry = _pending.get(cache_key)
        if entry is None:
            if len(_pending) > 10000:  # old windows: drop them all, they were written or are moot
                _pending.clear()
            entry = _pending[cache_key] = [0, None, now]  # unknown: the first hit always writes
        entry[0] += 1
        if (
            entry[1] is not None
            and entry[0] < batch
            and entry[1] + entry[0] <= limit // 2
            and now - entry[2] < FLUSH_SECONDS
        ):
            return True
        pending, entry[0], entry[2] = entry[0], 0, now
    try:
        pipe = client.pipeline(transaction=False)
        pipe.incrby(cache_key, pending)
        pipe.expire(cache_key, period + 5, nx=True)
        count = pipe.execute()[0]
    except Exception as exc:
        # Fail open, as core.ratelimit does: consent is recorded while Redis is away; the hits are forgotten.
        ratelimit.warn_cache_unreachable("rate limits are not enforced until it is back", exc)
        return True
    with _lock:
        entry[1] = count
    return count <= limit


def reset() -> None:
    """Forget unwritten hits (tests)."""
    with _lock:
        _pending.clear()
