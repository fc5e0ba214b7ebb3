import uuid

import pytest

from consent import ratelimit


def test_falls_back_to_core_limiter_on_other_caches(db):
    assert [ratelimit.hit(scope="t", key="1.2.3.4", rate="2/m") for _ in range(3)] == [True, True, False]


@pytest.fixture
def redis_cache(settings, redis_url):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": uuid.uuid4().hex,
        }
    }
    ratelimit.reset()
    yield
    ratelimit.reset()


@pytest.mark.redis
def test_small_limits_are_counted_on_every_hit(redis_cache):
    assert [ratelimit.hit(scope="t", key="a", rate="3/m") for _ in range(4)] == [True, True, True, False]
    assert ratelimit.hit(scope="t", key="b", rate="3/m")


@pytest.mark.redis
def test_batched_counting_still_enforces_the_limit(redis_cache):
    results = [ratelimit.hit(scope="t", key="c", rate="200/m") for _ in range(260)]
    assert all(results[:200])
    assert not any(results[201:])  # at most one batch of slack, and only while far from the limit


@pytest.mark.redis
def test_limit_holds_across_processes(redis_cache):
    import time

    from django.core.cache import cache

    from core.ratelimit import parse_rate

    _, period = parse_rate("100/m")
    # Other processes have already used the whole allowance of this window.
    cache.set(f"rl:t:d:{int(time.time() // period)}", 100, 60)
    assert not ratelimit.hit(scope="t", key="d", rate="100/m")
