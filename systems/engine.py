"""Connections to SQL systems: one pooled SQLAlchemy engine per database URL and process, and failures in words.

Every failure of a connected database reaches callers as ``SystemUnavailable`` with a short reason a person
reads ("connection refused", "timeout", "permission denied", "unknown table orders"), and whether a retry
may help.
"""

from __future__ import annotations

import os
import socket
import threading
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

CONNECT_TIMEOUT = 5  # seconds: an unreachable system fails fast and is retried later
READ_TIMEOUT = 60
RETRYABLE = {"connection refused", "timeout", "connection lost", "database busy", "service unavailable"}


class SystemUnavailable(Exception):
    """A connected system could not be reached or refused the work; ``reason`` says why in a few words."""

    def __init__(self, system_name: str, reason: str):
        self.system_name = system_name
        self.reason = reason
        super().__init__(f"{system_name}: {reason}")

    @property
    def retryable(self) -> bool:
        """Whether waiting may help (refused and timed-out connections), unlike a permission or a missing table."""
        return self.reason in RETRYABLE


_lock = threading.Lock()
_engines: dict[str, sa.Engine] = {}  # by URL
_urls: dict[str, str] = {}  # system key -> the URL its engine was made for


def _forget_engines_in_child() -> None:
    # A forked worker must not share its parent's pooled sockets: it opens its own (the parent keeps its).
    for engine in _engines.values():
        engine.dispose(close=False)
    _engines.clear()
    _urls.clear()


os.register_at_fork(after_in_child=_forget_engines_in_child)


def database_url(system) -> str:
    """The system's SQLAlchemy URL, from the environment variable its declaration names."""
    # The declaration names a variable rather than a setting: an integrator adds a system without a deploy.
    url = os.environ.get(system.url_env, "") if system.url_env else ""
    if not url:
        raise SystemUnavailable(system.name, f"connection variable {system.url_env or '(none)'} is not set")
    return url


def _connect_args(url: sa.URL) -> dict:
    backend = url.get_backend_name()
    if backend == "mysql" or backend == "mariadb":
        return {"connect_timeout": CONNECT_TIMEOUT, "read_timeout": READ_TIMEOUT, "write_timeout": READ_TIMEOUT}
    if backend == "postgresql":
        return {"connect_timeout": CONNECT_TIMEOUT}
    if backend == "sqlite":
        return {"timeout": CONNECT_TIMEOUT}
    return {}


def engine_for(system) -> sa.Engine:
    """The pooled engine for ``system``'s URL, made once per process; a changed URL disposes the old one."""
    url_text = database_url(system)
    with _lock:
        previous = _urls.get(system.key)
        if previous is not None and previous != url_text:
            _urls.pop(system.key)
            if previous not in _urls.values() and previous in _engines:
                _engines.pop(previous).dispose()
        engine = _engines.get(url_text)
        if engine is None:
            try:
                url = sa.make_url(url_text)
            except sa_exc.ArgumentError:
                raise SystemUnavailable(system.name, f"connection variable {system.url_env} is not a database URL")
            try:
                engine = sa.create_engine(
                    url,
                    pool_pre_ping=True,
                    pool_recycle=1800,
                    connect_args=_connect_args(url),
                    **({} if url.get_backend_name() == "sqlite" else {"pool_size": 2, "max_overflow": 4}),
                )
            except (sa_exc.NoSuchModuleError, ImportError):
                raise SystemUnavailable(system.name, f"no driver for {url.drivername}")
            _engines[url_text] = engine
        _urls[system.key] = url_text
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (after a fork, and between tests)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _urls.clear()


def reason_for(error: BaseException) -> str:
    """A few words on why a database operation failed."""
    if isinstance(error, sa_exc.NoSuchTableError):
        return f"unknown table {error.args[0] if error.args else ''}".strip()
    if isinstance(error, sa_exc.TimeoutError | socket.timeout | TimeoutError):
        return "timeout"
    orig = getattr(error, "orig", None) or error
    code = orig.args[0] if getattr(orig, "args", None) and isinstance(orig.args[0], int) else None
    text = str(orig).lower()
    if code in (1045, 1044, 1142, 1143, 1227) or "permission denied" in text or "access denied" in text:
        return "permission denied"
    if "password authentication failed" in text or "readonly database" in text or "read-only" in text:
        return "permission denied"
    if "role" in text and "does not exist" in text:
        return "permission denied"
    if code == 2003 or "connection refused" in text or "can't connect" in text or "could not connect" in text:
        return "connection refused"
    if "timed out" in text or "timeout" in text or code == 2013 and "reading" in text:
        return "timeout"
    if code in (2006, 2013) or "server closed the connection" in text or "lost connection" in text:
        return "connection lost"
    if code == 1146 or "no such table" in text or ("relation" in text and "does not exist" in text):
        return "unknown table"
    if code == 1049 or ("database" in text and "does not exist" in text) or "unable to open database" in text:
        return "unknown database"
    if code == 1054 or "no such column" in text or ("column" in text and "does not exist" in text):
        return "unknown column"
    if "database is locked" in text or code in (1205, 1213):
        return "database busy"
    if isinstance(error, sa_exc.IntegrityError):
        return "refused by the database: rows of another table still refer to these"
    return "database error"


@contextmanager
def classified(system):
    """Turn any database failure inside the block into SystemUnavailable with its reason."""
    try:
        yield
    except SystemUnavailable:
        raise
    except (sa_exc.SQLAlchemyError, OSError) as exc:
        raise SystemUnavailable(system.name, reason_for(exc)) from exc


def reflect_tables(system, engine: sa.Engine, tables: list[str]) -> dict[str, sa.Table]:
    """Reflect the declared tables (column names, types, keys) from the live schema."""
    metadata = sa.MetaData()
    reflected = {}
    with classified(system), engine.connect() as conn:
        for name in tables:
            try:
                reflected[name] = sa.Table(name, metadata, autoload_with=conn)
            except sa_exc.NoSuchTableError:
                raise SystemUnavailable(system.name, f"unknown table {name}")
    return reflected
