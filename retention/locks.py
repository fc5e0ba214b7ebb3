"""One enforcement run at a time, across processes and machines.

On PostgreSQL a session-level advisory lock: the database releases it if the holder dies, so a
crashed run never blocks the next one. Elsewhere (the embedded SQLite default, where web, worker
and beat share one file) a lease row in the database: taking it is one INSERT against a unique
name inside a write transaction, which the database serialises, so two runs can never both win.
The holder renews the lease while it works; a crashed holder's lease runs out after
``LEASE`` and the next run takes over and resumes the interrupted run.
"""

import os
import socket
import time
import uuid
import zlib
from contextlib import contextmanager
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

LOCK_NAME = "privacyportal.retention.enforce"
ADVISORY_KEY = zlib.crc32(LOCK_NAME.encode())  # a stable 32-bit key
LEASE = timedelta(minutes=10)
RENEW_EVERY_SECONDS = 60.0


class LockLost(Exception):
    """The lease ran out and another run took it over: this run must stop (the other resumes its work)."""


class Lock:
    """Truthy when held; ``keep_alive()`` renews a lease (a no-op for an advisory lock)."""

    def __init__(self, acquired: bool, *, token: str = ""):
        self.acquired = acquired
        self.token = token
        self._renewed = time.monotonic()

    def __bool__(self) -> bool:
        return self.acquired

    def keep_alive(self, *, force: bool = False) -> None:
        if not (self.acquired and self.token):
            return
        if not force and time.monotonic() - self._renewed < RENEW_EVERY_SECONDS:
            return
        from retention.models import RunLease

        renewed = RunLease.objects.filter(name=LOCK_NAME, token=self.token).update(expires_at=timezone.now() + LEASE)
        if not renewed:
            raise LockLost("The retention lock's lease ran out and another run took it over.")
        self._renewed = time.monotonic()


def _take_lease(token: str) -> bool:
    from retention.models import RunLease

    now = timezone.now()
    with transaction.atomic():  # BEGIN IMMEDIATE on SQLite: one writer at a time decides
        RunLease.objects.filter(name=LOCK_NAME, expires_at__lt=now).delete()
        try:
            with transaction.atomic():
                RunLease.objects.create(
                    name=LOCK_NAME,
                    token=token,
                    holder=f"{socket.gethostname()}:{os.getpid()}"[:200],
                    acquired_at=now,
                    expires_at=now + LEASE,
                )
        except IntegrityError:
            return False
    return True


@contextmanager
def enforcement_lock():
    """Yield a truthy ``Lock`` when this process holds the enforcement lock, a falsy one when another run does."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_KEY])
            acquired = cursor.fetchone()[0]
        try:
            yield Lock(acquired)
        finally:
            if acquired and connection.connection is not None:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_KEY])
        return
    from retention.models import RunLease

    token = uuid.uuid4().hex
    acquired = _take_lease(token)
    try:
        yield Lock(acquired, token=token)
    finally:
        if acquired:
            RunLease.objects.filter(name=LOCK_NAME, token=token).delete()
