"""Benchmark: the admin home (dashboard) and the request queue with many requests and consent records.

Run on PostgreSQL (a scratch database; its requests and consent records are replaced):

    DEBUG=true DATABASE_URL=postgres://postgres@127.0.0.1:5432/pp_console_bench \\
        .venv/bin/python bench/staff_console.py [--requests 100000] [--consent 10000000] [--repeat 20]

Fills the tables with ``INSERT … SELECT generate_series`` (requests due over ±60 days, a fifth of them open;
consent records spread over five years on three websites), then times whole pages as a logged-in
superuser through Django's test client: GET /admin/ and GET /admin/requests_app/datarequest/, and reports
the median and the 95th percentile of each (target: p95 under 300 ms).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacyportal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from consent.models import Property  # noqa: E402


def fill_requests(n: int) -> None:
    with connection.cursor() as c:
        c.execute("DELETE FROM requests_app_datarequest WHERE reference LIKE 'BENCH-%%'")
        c.execute(
            """
            INSERT INTO requests_app_datarequest (
                reference, kind, status, jurisdiction, relationship, requester_name, requester_email, details,
                language, channel, received_at, due_at, acknowledge_by, status_nonce, release_approval_required,
                created_at, updated_at, extension_reason, completion_summary, denial_reason, denial_text,
                verification_requested_at
            )
            SELECT 'BENCH-' || i,
                   (ARRAY['access','erasure','rectification','portability'])[1 + i %% 4],
                   CASE WHEN i %% 5 = 0 THEN (ARRAY['verified','in_progress','awaiting_requester'])[1 + i %% 3]
                        ELSE (ARRAY['completed','denied','withdrawn','expired'])[1 + i %% 4] END,
                   'gdpr', 'customer', 'Bench ' || i, 'bench' || i || '@example.com', '', 'en', 'web',
                   now() - interval '30 days', now() + ((i %% 121) - 60) * interval '1 day', now(),
                   md5(i::text), false, now(), now(), '', '', '', '', now() - interval '30 days'
            FROM generate_series(1, %s) AS i
            """,
            [n],
        )


def fill_consent(n: int, properties: list[int]) -> None:
    with connection.cursor() as c:
        c.execute("TRUNCATE consent_consentrecord")
        c.execute(
            """
            INSERT INTO consent_consentrecord (consent_id, property_id, revision, choices, method, created_at,
                                               user_agent_family, page_url, gpc)
            SELECT md5(i::text)::uuid, (%s::bigint[])[1 + i %% %s], 1, '{}'::jsonb,
                   (ARRAY['accept_all','reject_all','custom','gpc'])[1 + i %% 4],
                   now() - (i::float / %s) * interval '1825 days', '', '', i %% 4 = 3
            FROM generate_series(1, %s) AS i
            """,
            [properties, len(properties), n, n],
        )
        c.execute("ANALYZE consent_consentrecord")
        c.execute("ANALYZE requests_app_datarequest")


def timed(client: Client, url: str, repeat: int) -> list[float]:
    assert client.get(url).status_code == 200, url  # warm caches and fail loudly
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        out.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--consent", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Run this benchmark on PostgreSQL (DATABASE_URL=postgres://...).")
    call_command("migrate", verbosity=0)
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    props = [Property.objects.get_or_create(name=f"Bench site {i}")[0].pk for i in range(3)]
    started = time.perf_counter()
    fill_requests(args.requests)
    fill_consent(args.consent, props)
    print(
        f"filled {args.requests:,} requests and {args.consent:,} consent records in {time.perf_counter() - started:.0f} s"
    )
    User = get_user_model()
    admin = User.objects.filter(email="bench-admin@example.com").first() or User.objects.create_superuser(
        username="bench-admin", email="bench-admin@example.com", password="bench-admin-2026"
    )
    client = Client()
    client.force_login(admin)
    for name, url in (("admin home (dashboard)", "/admin/"), ("request queue", "/admin/requests_app/datarequest/")):
        times = timed(client, url, args.repeat)
        print(f"{name}: median {statistics.median(times):.0f} ms, p95 {p95(times):.0f} ms ({args.repeat} loads)")


if __name__ == "__main__":
    main()
