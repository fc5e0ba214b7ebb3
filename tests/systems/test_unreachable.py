"""An unreachable or refusing system fails with one exception type and a reason a person reads."""

import socket
import threading
import uuid

import pytest
import sqlalchemy as sa

from systems import engine as engines
from systems.engine import SystemUnavailable, engine_for
from systems.operations import Identities, apply_erasure, iter_person_rows, preview_erasure
from systems.services import load_systems
from tests.systems.conftest import MARIADB, SHOP_YAML, make_shop_schema

pytestmark = pytest.mark.django_db
ANN = Identities.of(emails=["ann@example.com"])


@pytest.fixture
def system():
    (system,) = load_systems(text=SHOP_YAML)
    yield system
    engines.dispose_engines()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused(system, monkeypatch):
    monkeypatch.setenv("LEGACY_SHOP_DATABASE_URL", f"mysql+pymysql://root@127.0.0.1:{_free_port()}/shop")
    with pytest.raises(SystemUnavailable) as caught:
        preview_erasure(system=system, who=ANN)
    assert caught.value.reason == "connection refused" and caught.value.retryable
    assert str(caught.value) == "Legacy web shop: connection refused"


def test_timeout_of_a_server_that_never_answers(system, monkeypatch):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    accepted = []
    stop = threading.Event()

    def hold_open():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])  # accepted, then silent: no greeting ever comes
            except OSError:
                pass

    thread = threading.Thread(target=hold_open, daemon=True)
    thread.start()
    monkeypatch.setattr(engines, "CONNECT_TIMEOUT", 1)
    monkeypatch.setattr(engines, "READ_TIMEOUT", 1)
    monkeypatch.setenv("LEGACY_SHOP_DATABASE_URL", f"mysql+pymysql://root@127.0.0.1:{listener.getsockname()[1]}/shop")
    try:
        with pytest.raises(SystemUnavailable) as caught:
            list(iter_person_rows(system=system, who=ANN))
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()
    assert caught.value.reason == "timeout" and caught.value.retryable


def test_unset_variable_and_bad_url(system, monkeypatch):
    monkeypatch.delenv("LEGACY_SHOP_DATABASE_URL", raising=False)
    with pytest.raises(SystemUnavailable, match="connection variable LEGACY_SHOP_DATABASE_URL is not set"):
        preview_erasure(system=system, who=ANN)
    monkeypatch.setenv("LEGACY_SHOP_DATABASE_URL", "not a url")
    with pytest.raises(SystemUnavailable, match="is not a database URL"):
        preview_erasure(system=system, who=ANN)


def test_unknown_table(system, shop_url, monkeypatch):
    monkeypatch.setenv("LEGACY_SHOP_DATABASE_URL", shop_url)
    with pytest.raises(SystemUnavailable) as caught:
        apply_erasure(system=system, who=ANN)
    assert caught.value.reason.startswith("unknown table") and not caught.value.retryable


def test_permission_denied_on_mariadb(system, monkeypatch):
    name = f"test_systems_{uuid.uuid4().hex[:10]}"
    user = f"u{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(MARIADB + "/", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {name}")
            conn.exec_driver_sql(f"CREATE USER '{user}'@'%%' IDENTIFIED BY 'pw-{user}'")
            conn.exec_driver_sql(f"CREATE USER '{user}'@'localhost' IDENTIFIED BY 'pw-{user}'")
    except sa.exc.OperationalError as exc:
        pytest.skip(f"no MariaDB at 127.0.0.1:3306: {exc.orig}")
    try:
        make_shop_schema(f"{MARIADB}/{name}")
        with admin.connect() as conn:  # may read customers only
            for host in ("%%", "localhost"):
                conn.exec_driver_sql(f"GRANT SELECT ON {name}.customers TO '{user}'@'{host}'")
        monkeypatch.setenv("LEGACY_SHOP_DATABASE_URL", f"mysql+pymysql://{user}:pw-{user}@127.0.0.1:3306/{name}")
        with pytest.raises(SystemUnavailable) as caught:
            preview_erasure(system=system, who=ANN)
        assert caught.value.reason in ("permission denied", "unknown table orders")
        monkeypatch.setenv("LEGACY_SHOP_DATABASE_URL", f"mysql+pymysql://{user}:wrong@127.0.0.1:3306/{name}")
        with pytest.raises(SystemUnavailable) as caught:
            preview_erasure(system=system, who=ANN)
        assert caught.value.reason == "permission denied" and not caught.value.retryable
    finally:
        engines.dispose_engines()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
            for host in ("%%", "localhost"):
                conn.exec_driver_sql(f"DROP USER IF EXISTS '{user}'@'{host}'")
        admin.dispose()


def test_one_engine_per_url_and_a_changed_url_disposes_the_old_one(system, monkeypatch, tmp_path):
    monkeypatch.setenv("LEGACY_SHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'a.sqlite3'}")
    first = engine_for(system)
    assert engine_for(system) is first
    monkeypatch.setenv("LEGACY_SHOP_DATABASE_URL", f"sqlite:///{tmp_path / 'b.sqlite3'}")
    second = engine_for(system)
    assert second is not first and first not in engines._engines.values()


@pytest.mark.parametrize(
    "url, reason",
    [
        ("postgresql+psycopg2://postgres@127.0.0.1:{free}/shop", "connection refused"),
        ("postgresql+psycopg2://nobody_{rand}@127.0.0.1:5432/postgres", "permission denied"),
        ("postgresql+psycopg2://postgres@127.0.0.1:5432/missing_{rand}", "unknown database"),
        ("sqlite:////nonexistent-{rand}/shop.sqlite3", "unknown database"),
    ],
)
def test_postgresql_and_sqlite_failures_in_words(system, monkeypatch, url, reason):
    if "5432" in url and socket.socket().connect_ex(("127.0.0.1", 5432)) != 0:
        pytest.skip("no PostgreSQL at 127.0.0.1:5432")
    monkeypatch.setenv("LEGACY_SHOP_DATABASE_URL", url.format(free=_free_port(), rand=uuid.uuid4().hex[:8]))
    with pytest.raises(SystemUnavailable) as caught:
        preview_erasure(system=system, who=ANN)
    assert caught.value.reason == reason
