"""Consent writes go on while the shared cache (Redis) is down: the limiter fails open, the config comes from the database."""

import json
import logging
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest

from consent import ratelimit as consent_ratelimit
from consent import selectors
from consent.models import ConsentRecord
from core import ratelimit
from tests.consent.conftest import HOST_ORIGIN

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server on PATH")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, up: bool, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise AssertionError(f"redis on port {port} did not go {'up' if up else 'down'}")


class OwnRedis:
    """A redis-server of the test's own on a free port (the shared one on 6379 is never touched)."""

    def __init__(self, tmp_path):
        self.port = _free_port()
        self.dir = tmp_path
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, up=True)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        _wait_for_port(self.port, up=False)


@pytest.fixture
def own_redis(tmp_path, settings, monkeypatch):
    server = OwnRedis(tmp_path)
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    # Every request reads the shared cache (no per-process copy), and every warning is logged.
    monkeypatch.setattr(selectors, "LOCAL_TTL", 0.0)
    monkeypatch.setattr(ratelimit, "_last_warning", {}, raising=False)
    selectors.forget_local_configs()
    consent_ratelimit.reset()
    yield server
    consent_ratelimit.reset()
    selectors.forget_local_configs()
    if server.proc.poll() is None:
        server.kill()


def _post(base: str, key: str, consent_id: str) -> int:
    body = {
        "consent_id": consent_id,
        "revision": 1,
        "choices": {"features": True, "performance": False, "targeting": False},
        "method": "custom",
        "page_url": HOST_ORIGIN + "/shop",
        "gpc": False,
    }
    req = urllib.request.Request(
        f"{base}/api/consent/{key}/records",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Origin": HOST_ORIGIN},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            assert r.headers["Access-Control-Allow-Origin"] == HOST_ORIGIN
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.django_db(transaction=True)
def test_every_choice_is_recorded_while_redis_goes_down_and_comes_back(live_server, prop, own_redis, caplog):
    caplog.set_level(logging.WARNING)
    ids = [str(uuid.uuid4()) for _ in range(36)]
    codes = [_post(live_server.url, prop.key, i) for i in ids[:12]]
    own_redis.kill()
    codes += [_post(live_server.url, prop.key, i) for i in ids[12:24]]
    own_redis.start()
    codes += [_post(live_server.url, prop.key, i) for i in ids[24:]]

    assert codes == [201] * len(ids)
    recorded = set(ConsentRecord.objects.filter(property=prop).values_list("consent_id", flat=True))
    assert recorded == {uuid.UUID(i) for i in ids}
    warnings = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "shared cache is unreachable" in warnings
    assert "rate limits are not enforced" in warnings and "read from the database" in warnings


@pytest.mark.django_db(transaction=True)
def test_limiter_and_config_cache_work_again_once_redis_is_back(live_server, prop, own_redis):
    import redis

    own_redis.kill()
    assert _post(live_server.url, prop.key, str(uuid.uuid4())) == 201
    own_redis.start()
    assert _post(live_server.url, prop.key, str(uuid.uuid4())) == 201
    client = redis.Redis.from_url(own_redis.url)
    keys = {k.decode() for k in client.keys("*")}
    assert any("rl:consent-api:" in k for k in keys), keys  # counting again
    assert any(selectors.config_cache_key(prop.key) in k for k in keys), keys  # cached again


def test_core_limiter_fails_open_when_the_cache_is_unreachable(settings, monkeypatch, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_free_port()}/0",
        }
    }
    monkeypatch.setattr(ratelimit, "_last_warning", {}, raising=False)
    caplog.set_level(logging.WARNING)
    assert [ratelimit.hit(scope="t", key="k", rate="1/m") for _ in range(3)] == [True, True, True]
    warnings = [r for r in caplog.records if "shared cache is unreachable" in r.getMessage()]
    assert len(warnings) == 1  # one line for the outage, not one per request


@pytest.mark.django_db
def test_property_config_comes_from_the_database_when_the_cache_is_unreachable(settings, prop, monkeypatch):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_free_port()}/0",
        }
    }
    monkeypatch.setattr(selectors, "LOCAL_TTL", 0.0)
    selectors.forget_local_configs()
    config = selectors.get_property_config(prop.key)
    assert config["pk"] == prop.pk and config["origins"] == [HOST_ORIGIN]
    assert selectors.get_property_config("unknown-key") is None
