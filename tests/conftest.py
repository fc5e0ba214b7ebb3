"""Fixtures shared by every app's tests: settings for tests, real SMTP, real Chromium, real Celery worker.

App-specific factories and fixtures live in ``tests/<app>/conftest.py``.
"""

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import hypothesis
import pytest
from django.conf import settings as django_settings
from django.db import connection

# No per-example deadline: on two cores shared by xdist workers and live servers, a first example that
# imports or warms a cache can take longer than hypothesis's 200 ms without anything being wrong.
hypothesis.settings.register_profile("suite", deadline=None, print_blob=True)
hypothesis.settings.load_profile("suite")

BASE_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def redis_available() -> bool:
    from urllib.parse import urlparse

    u = urlparse(REDIS_URL)
    return _port_open(u.hostname or "127.0.0.1", u.port or 6379)


def is_postgres() -> bool:
    return django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request, django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, test on a database file rather than in memory.

    Django shares one in-memory SQLite connection between the test thread and the live server's threads,
    so a test that writes while the browser is still loading a page interleaves statements on that one
    connection (foreign-key failures, "cannot release savepoint"). A file gives each thread its own
    connection, as the embedded default gives web, worker and beat, with WAL and immediate transactions.
    """
    db = django_settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        worker = getattr(request.config, "workerinput", {}).get("workerid", "main")
        db.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.getbasetemp() / f"test-{worker}.sqlite3")


class _ServerErrors(logging.Handler):
    """Collects the 5xx responses Django logs on ``django.request``, from whichever thread answered them."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        if getattr(record, "status_code", 500) >= 500:
            self.records.append(record)


@contextlib.contextmanager
def live_server_errors_fail_the_test():
    """Fail the enclosing test if Django answered any request with a 5xx while the block ran."""
    handler = _ServerErrors()
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
    if handler.records:
        lines = [f"{r.getMessage()} (status {getattr(r, 'status_code', '?')})" for r in handler.records]
        pytest.fail("the live server answered with a server error:\n" + "\n".join(lines), pytrace=False)


@pytest.fixture(autouse=True)
def _fail_on_live_server_errors(request):
    """A test that drives the live server fails when any of its answers was a 5xx.

    Autouse, so it is set up before the test's browser page and checks after that page has closed.
    A test that provokes a 5xx on purpose says so with ``@pytest.mark.server_errors_expected``.
    """
    if "live_server" not in request.fixturenames or request.node.get_closest_marker("server_errors_expected"):
        yield
        return
    with live_server_errors_fail_the_test():
        yield


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    """Fresh per-test cache, files under tmp, plain-HTTP cookies for the live server, eager Celery."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
    }
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from privacyportal.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False
    # A request with Accept-Language leaves its language active in this thread; the next test starts clean.
    from django.utils import translation

    translation.deactivate()


# --- real SMTP ------------------------------------------------------------------


class SmtpSink:
    """A real SMTP server (aiosmtpd) on loopback that keeps every message it receives."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list = []
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                msg = message_from_bytes(envelope.original_content or envelope.content, policy=email_policy.default)
                sink.messages.append(msg)
                return "250 OK"

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in (m.get("To") or "")]

    def text(self, message) -> str:
        body = message.get_body(preferencelist=("plain", "html"))
        return body.get_content() if body else ""

    def wait_for(self, address: str, count: int = 1, timeout: float = 20.0) -> list:
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"expected {count} mail(s) to {address}, got {len(self.to(address))}")


@pytest.fixture
def smtp_server(settings):
    """Point Django's mail at a real SMTP server and yield it."""
    sink = SmtpSink()
    sink.controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    sink.controller.stop()


# --- real Chromium --------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # the live server and Playwright share the process
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-GB")
    pg = context.new_page()
    pg.set_default_timeout(30000)  # generous: the suite shares two cores with a live server per worker
    yield pg
    context.close()


# --- real Redis and a real Celery worker ------------------------------------------


@pytest.fixture
def redis_url():
    if not redis_available():
        pytest.skip(f"needs a Redis server at {REDIS_URL}")
    return REDIS_URL


def _database_url_for_subprocess() -> str:
    d = connection.settings_dict
    user = d.get("USER") or ""
    password = f":{d['PASSWORD']}" if d.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{d.get('HOST') or '127.0.0.1'}:{d.get('PORT') or 5432}/{d['NAME']}"


WORKER_START_TIMEOUT = float(os.environ.get("TEST_CELERY_WORKER_START_TIMEOUT", "180"))


@pytest.fixture
def celery_worker_process(request, transactional_db, redis_url, settings, tmp_path, monkeypatch):
    """A real ``celery worker`` subprocess on Redis, sharing this test's PostgreSQL database.

    Yields a dict with ``queue`` and ``env``; tasks sent with ``.delay()`` go to it.
    Pass ``smtp_server`` too to have its mail delivered over real SMTP.
    """
    if not is_postgres():
        pytest.skip("a worker subprocess needs the test database on PostgreSQL (set DATABASE_URL=postgres://...)")
    if "smtp_server" in request.fixturenames:
        # The worker reads its mail settings once at start: the SMTP sink must exist first,
        # whatever order the test lists its fixtures in.
        request.getfixturevalue("smtp_server")
    from privacyportal.celery import app

    queue = f"test-{uuid.uuid4().hex[:10]}"
    # A node name of its own: several workers (xdist processes, other suites) share this Redis.
    nodename = f"{queue}@{socket.gethostname()}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for_subprocess(),
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CACHE_URL": "locmemcache://",
        "VAR_DIR": str(tmp_path / "worker-var"),
        "PRIVATE_ROOT": str(settings.PRIVATE_ROOT),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CONN_MAX_AGE": "0",
        "PYTHONUNBUFFERED": "1",
    }
    if settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
        env["EMAIL_URL"] = f"smtp://{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    log = tmp_path / "worker.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "privacyportal",
            "worker",
            "--pool=solo",
            "-n",
            nodename,
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    # Celery prefers a CELERY_BROKER_URL from the environment over its configuration: without this,
    # a suite run with that variable set would publish where the worker is not listening.
    monkeypatch.setenv("CELERY_BROKER_URL", redis_url)
    old = {k: app.conf.get(k) for k in ("broker_url", "task_default_queue", "task_always_eager")}
    app.conf.update(broker_url=redis_url, task_default_queue=queue, task_always_eager=False)
    _reset_broker_pool(app)
    # "<nodename> ready." is logged once the consumer listens on the queue. Match that exact line (a bare
    # "ready" also matches "already" in warnings), and give a loaded machine time to import Django and Celery.
    ready_line = f"{nodename} ready."
    deadline = time.time() + WORKER_START_TIMEOUT
    while ready_line not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            proc.wait(timeout=15)
            pytest.fail(f"celery worker did not start:\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    try:
        yield {"queue": queue, "env": env, "log": log, "process": proc}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        app.conf.update(**old)
        _reset_broker_pool(app)


def _reset_broker_pool(app) -> None:
    # The app caches broker connections; drop them so the next publish uses the new broker_url.
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    # Eager sends still take producers from kombu's global pools, which point at the closed connections.
    from kombu import pools

    pools.reset()


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.2):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


@pytest.fixture
def user_factory(db):
    """Make an account holder with a verified e-mail address."""
    from tests.factories import UserFactory

    return UserFactory


@pytest.fixture
def staff_user(db):
    from tests.factories import UserFactory

    return UserFactory(is_staff=True, is_superuser=True, email="staff@example.com")


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None
