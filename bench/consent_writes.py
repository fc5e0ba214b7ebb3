"""Consent writes: requests/s of POST /api/consent/<key>/records under concurrent load, against gunicorn
on PostgreSQL, as a ratio to a baseline endpoint in the same server that inserts one row with no logic.

Run from the project root (PostgreSQL and Redis running):
    .venv/bin/python bench/consent_writes.py [--seconds 10] [--concurrency 8] [--workers 2]

The baseline endpoint exists only in this harness: gunicorn loads ``bench.consent_writes:make_app()``,
which mounts it next to the real URLs. It never ships in the product.
"""

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/pp_consent_bench"
BASELINE_PATH = "/bench/baseline-insert/"


def make_app():
    """WSGI app for gunicorn: the portal plus the baseline endpoint (bench harness only)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacyportal.settings")
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application
    from django.http import JsonResponse
    from django.urls import clear_url_caches, path
    from django.views.decorators.csrf import csrf_exempt

    from consent.models import ConsentRecord
    from privacyportal import urls

    property_pk = int(os.environ["BENCH_PROPERTY_PK"])

    @csrf_exempt
    def baseline(request):
        # One row into the same table, with no parsing, validation, rate limit or CORS.
        ConsentRecord.objects.create(
            consent_id=uuid.uuid4(), property_id=property_pk, revision=1, choices={}, method="reject_all"
        )
        return JsonResponse({"ok": True}, status=201)

    urls.urlpatterns.insert(0, path(BASELINE_PATH.strip("/") + "/", baseline))
    clear_url_caches()
    return get_wsgi_application()


def _prepare(env: dict) -> tuple[int, str]:
    out = subprocess.run(
        [sys.executable, "-c", _PREPARE],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    pk, key = out.stdout.strip().splitlines()[-1].split()
    return int(pk), key


_PREPARE = """
import os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacyportal.settings")
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from consent.defaults import ensure_categories
from consent.models import Property
from consent.services import invalidate_banner_cache
cats = ensure_categories()
prop, _ = Property.objects.get_or_create(name="Bench site", defaults={"allowed_origins": "https://bench.example.com"})
prop.categories.set(cats.values())
invalidate_banner_cache()
print(prop.pk, prop.key)
"""


def _ensure_database(url: str) -> None:
    from urllib.parse import urlsplit

    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    conn = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cur.fetchone():
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load(port: int, path: str, make_body, seconds: float, concurrency: int) -> tuple[float, int]:
    """Requests/s over ``seconds`` with ``concurrency`` keep-alive clients; returns (rate, errors)."""
    stop = time.monotonic() + seconds
    counts, errors = [0] * concurrency, [0] * concurrency
    headers = {
        "Content-Type": "application/json",
        "Origin": "https://bench.example.com",
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    }

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            try:
                conn.request("POST", path, body=make_body(), headers=headers)
                resp = conn.getresponse()
                resp.read()
                if resp.status == 201:
                    counts[i] += 1
                else:
                    errors[i] += 1
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - started), sum(errors)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()

    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    _ensure_database(db_url)
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "CACHE_URL": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/14"),
        "CONSENT_API_RATE_LIMIT": "100000000/m",  # measure the write path, not the limiter refusing
        "DEBUG": "false",
        # With DEBUG off the portal refuses to start without keys of its own: throwaway ones for this run.
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(64),
        "PSEUDONYMISATION_KEY": os.environ.get("PSEUDONYMISATION_KEY") or secrets.token_urlsafe(64),
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONPATH": str(ROOT),
    }
    pk, key = _prepare(env)
    env["BENCH_PROPERTY_PK"] = str(pk)
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "bench.consent_writes:make_app()",
            "-b",
            f"127.0.0.1:{port}",
            "-k",
            "gthread",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start")
                time.sleep(0.2)

        consent_path = f"/api/consent/{key}/records"

        def consent_body() -> str:
            return json.dumps(
                {
                    "consent_id": str(uuid.uuid4()),
                    "revision": 1,
                    "method": "custom",
                    "choices": {"performance": True},
                    "page_url": "https://bench.example.com/page?x=1",
                }
            )

        _load(port, consent_path, consent_body, 2, args.concurrency)  # warm up both paths
        _load(port, BASELINE_PATH, lambda: "{}", 2, args.concurrency)
        base_rates, consent_rates, errors = [], [], 0
        # Alternate the order (ABBA) so that drifting background load hits both endpoints alike.
        for i in range(args.rounds):
            order = ("baseline", "consent") if i % 2 == 0 else ("consent", "baseline")
            for which in order:
                if which == "baseline":
                    rate, err = _load(port, BASELINE_PATH, lambda: "{}", args.seconds, args.concurrency)
                    base_rates.append(rate)
                else:
                    rate, err = _load(port, consent_path, consent_body, args.seconds, args.concurrency)
                    consent_rates.append(rate)
                errors += err
        base, consent = sum(base_rates) / len(base_rates), sum(consent_rates) / len(consent_rates)
        print(
            f"gunicorn gthread {args.workers}x{args.threads}, {args.concurrency} clients, {args.rounds}x{args.seconds:g}s each"
        )
        print(f"baseline insert : {base:8.1f} req/s")
        print(f"consent record  : {consent:8.1f} req/s")
        print(f"ratio           : {consent / base:8.2f} (target >= 0.70)")
        print(f"errors          : {errors}")
        print(
            json.dumps(
                {
                    "baseline_rps": round(base, 1),
                    "consent_rps": round(consent, 1),
                    "ratio": round(consent / base, 3),
                    "errors": errors,
                }
            )
        )
        return 0 if consent / base >= 0.7 and not errors else 1
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
