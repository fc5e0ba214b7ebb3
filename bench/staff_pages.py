"""Staff pages at production scale: p50 / p95 / max of every staff page with millions of consent records.

Run from the project root (PostgreSQL and Redis running):

    .venv/bin/python bench/staff_pages.py [--consent-records 10000000] [--requests 100000] \\
        [--database-url postgres://postgres@127.0.0.1:5432/pp_bench_staff] [--keep] [--json]

It creates the database (dropping one of that name first, unless ``--keep`` finds one this script filled at the
same size), migrates it and fills it with bulk SQL (``INSERT … SELECT generate_series``): three websites of
different traffic, 24 months of consent records growing month on month, methods and GPC as banners see them,
requests over the same months (about 2 % open, some overdue, the rest completed, denied, withdrawn or expired),
their audit events, and a nightly retention run for each day. The daily consent figures are then counted once
with ``summarise_consent --full``, and the monthly request figures with ``summarise_requests --full``, as the
scheduled jobs keep them. It starts gunicorn (gthread, 2 workers x 4
threads, DEBUG off) on the database, logs in over HTTP as a superuser, and times each page: 2 warm-up requests,
then 15 timed ones. Without ``--keep`` the database is dropped at the end. ``--json`` prints one JSON object on
stdout and nothing else (progress goes to stderr).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/pp_bench_staff"
ADMIN_EMAIL = "bench-staff@example.com"
ADMIN_PASSWORD = "Bench-staff-pages-2026"
WEBSITES = (("Demo shop", 0.6), ("Blog", 0.25), ("Help centre", 0.15))
MONTHS = 24


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def _connect(url: str, dbname: str | None = None):
    parts = urlsplit(url)
    return psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname=dbname or parts.path.lstrip("/"),
    )


def _admin_sql(url: str, sql: str) -> None:
    conn = _connect(url, "postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def _database_exists(url: str) -> bool:
    conn = _connect(url, "postgres")
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [urlsplit(url).path.lstrip("/")])
        found = cur.fetchone() is not None
    conn.close()
    return found


def _filled_sizes(url: str) -> tuple[int, int] | None:
    if not _database_exists(url):
        return None
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT consent_records, requests FROM bench_staff_pages")
            row = cur.fetchone()
    except psycopg2.Error:
        row = None
    conn.close()
    return tuple(row) if row else None


def _manage(env: dict, *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return out.stdout


def fill(url: str, consent_records: int, requests: int) -> None:
    """The data set, in bulk SQL: consent log, requests with their audit events, retention runs."""
    conn = _connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT setseed(0.17)")
    site_ids = []
    for name, _share in WEBSITES:
        cur.execute("SELECT id FROM consent_property WHERE name = %s", [name])
        row = cur.fetchone()
        if row is None:
            cur.execute(
                "INSERT INTO consent_property (name, key, allowed_origins, default_language, refusal_lifetime_days,"
                " acceptance_lifetime_days, revision, is_portal, created_at, updated_at)"
                " VALUES (%s, %s, %s, 'en', 183, 365, 1, false, now(), now()) RETURNING id",
                [name, secrets.token_urlsafe(9).replace("-", "x").replace("_", "y"), "https://shop.example.com"],
            )
            row = cur.fetchone()
        site_ids.append(row[0])
    started = time.monotonic()
    # Consent records: 24 months ending now, traffic growing over time (t = x^0.8 puts more rows per day in
    # later months), busier in November and December; 60/25/15 % across the three websites.
    chunk = 1_000_000
    for first in range(1, consent_records + 1, chunk):
        last = min(first + chunk - 1, consent_records)
        cur.execute(
            """
            INSERT INTO consent_consentrecord (consent_id, property_id, revision, choices, method, created_at,
                                               user_id, ip, user_agent_family, page_url, gpc)
            SELECT md5(i::text)::uuid,
                   CASE WHEN s < 0.6 THEN %(a)s WHEN s < 0.85 THEN %(b)s ELSE %(c)s END,
                   1 + (i %% 3 = 0)::int,
                   CASE m WHEN 'accept_all' THEN '{"necessary": true, "features": true, "performance": true, "targeting": true}'::jsonb
                          WHEN 'custom' THEN '{"necessary": true, "features": true, "performance": true, "targeting": false}'::jsonb
                          ELSE '{"necessary": true, "features": false, "performance": false, "targeting": false}'::jsonb END,
                   m,
                   t, NULL, '203.0.113.0'::inet,
                   (ARRAY['Chrome', 'Safari', 'Firefox', 'Edge', 'Samsung Internet'])[1 + i %% 5],
                   'https://shop.example.com/' || (ARRAY['', 'products/', 'blog/', 'help/', 'cart/'])[1 + i %% 5],
                   m = 'gpc' OR r < 0.02
            FROM (
                SELECT i, s, r,
                       CASE WHEN q < 0.52 THEN 'accept_all' WHEN q < 0.80 THEN 'reject_all'
                            WHEN q < 0.94 THEN 'custom' WHEN q < 0.99 THEN 'gpc' ELSE 'withdraw' END AS m,
                       now() - interval '730 days' + interval '730 days' * power(i::float / %(n)s, 0.8)
                           - interval '1 second' * (random() * 60) AS t
                FROM (SELECT i, random() AS s, random() AS q, random() AS r
                      FROM generate_series(%(first)s, %(last)s) AS i) AS g
            ) AS x
            """,
            {"a": site_ids[0], "b": site_ids[1], "c": site_ids[2], "n": consent_records, "first": first, "last": last},
        )
        log(f"  consent records {last:,} / {consent_records:,} ({time.monotonic() - started:.0f} s)")
    # Requests over the same 24 months; ~2 % open (received in the last 40 days, due 30 days after receipt,
    # so the oldest are overdue); closed ones answered within 1-40 days.
    cur.execute(
        """
        INSERT INTO requests_app_datarequest (
            reference, kind, status, jurisdiction, relationship, requester_name, requester_email, details,
            language, channel, received_at, due_at, acknowledge_by, status_nonce, release_approval_required,
            created_at, updated_at, extension_reason, completion_summary, denial_reason, denial_text,
            verification_requested_at, closed_at, verified_at
        )
        SELECT 'DSR-B' || lpad(i::text, 7, '0'), kind, status, jurisdiction, 'customer',
               'Bench requester ' || i, 'requester' || i || '@example.com', '', 'en', 'web',
               received, received + interval '30 days', (received + interval '3 days')::date, md5(i::text),
               false, received, received, '', '', '', '', received,
               CASE WHEN status IN ('completed', 'denied', 'withdrawn', 'expired')
                    THEN received + interval '1 day' * (1 + floor(random() * 40)) END,
               CASE WHEN status IN ('completed', 'denied', 'verified', 'in_progress', 'awaiting_requester')
                    THEN received + interval '1 day' END
        FROM (
            SELECT i,
                   (ARRAY['access', 'erasure', 'rectification', 'portability', 'opt_out', 'restriction'])[1 + i %% 6] AS kind,
                   CASE WHEN i %% 10 < 7 THEN 'gdpr' ELSE 'ccpa' END AS jurisdiction,
                   CASE WHEN open THEN (ARRAY['verified', 'in_progress', 'awaiting_requester', 'awaiting_verification'])[1 + i %% 4]
                        ELSE (ARRAY['completed', 'completed', 'completed', 'completed', 'completed', 'completed',
                                    'completed', 'completed', 'completed', 'completed', 'completed', 'completed',
                                    'denied', 'denied', 'withdrawn', 'expired'])[1 + i %% 16] END AS status,
                   CASE WHEN open THEN now() - interval '40 days' * random()
                        ELSE now() - interval '40 days' - interval '690 days' * random() END AS received
            FROM (SELECT i, random() < 0.02 AS open FROM generate_series(1, %(n)s) AS i) AS g
        ) AS x
        """,
        {"n": requests},
    )
    log(f"  requests {requests:,} ({time.monotonic() - started:.0f} s)")
    # Their audit trail: about five events a request (received, verified, started, completed, mail sent).
    cur.execute("SELECT id FROM django_content_type WHERE app_label = 'requests_app' AND model = 'datarequest'")
    ct = cur.fetchone()[0]
    cur.execute(
        """
        INSERT INTO audit_auditevent (created_at, actor_kind, actor_label, content_type_id, object_id, object_label,
                                      verb, note, old, new, request_reference)
        SELECT d.received_at + interval '1 hour' * e, 'system', 'Privacy Portal', %s, d.id::text, d.reference,
               (ARRAY['received', 'verified', 'started', 'completed', 'mail_sent'])[1 + e], '', NULL, NULL, d.reference
        FROM requests_app_datarequest d, generate_series(0, 4) AS e
        WHERE d.reference LIKE 'DSR-B%%' AND (e < 3 OR d.closed_at IS NOT NULL)
        """,
        [ct],
    )
    log(f"  audit events ({time.monotonic() - started:.0f} s)")
    # A nightly retention run for each of the last 731 days, with an item per enabled policy.
    cur.execute(
        """
        INSERT INTO retention_retentionrun (started_at, finished_at, status, dry_run, trigger, only_policy, now,
                                            resumed_count, error)
        SELECT d, d + interval '40 seconds', CASE WHEN n % 97 = 0 THEN 'failed' ELSE 'completed' END, false,
               'schedule', '', d, 0, ''
        FROM (SELECT n, date_trunc('day', now()) - interval '1 day' * n + interval '150 minutes' AS d
              FROM generate_series(0, 730) AS n) AS g
        """
    )
    cur.execute(
        """
        INSERT INTO retention_retentionrunitem (run_id, policy_id, policy_name, dataset, action, status, cutoff,
                                                last_pk, total, matched, deleted, modified, skipped_hold, batches,
                                                duration_seconds, errors)
        SELECT r.id, p.id, p.name, p.dataset, p.action, 'done', r.now - interval '90 days', '', 1000, 1000,
               CASE WHEN p.action = 'delete' THEN 1000 ELSE 0 END,
               CASE WHEN p.action = 'delete' THEN 0 ELSE 1000 END, 0, 1, 0.4, ''
        FROM retention_retentionrun r CROSS JOIN retention_retentionpolicy p WHERE p.enabled
        """
    )
    log(f"  retention runs ({time.monotonic() - started:.0f} s)")
    cur.execute("VACUUM ANALYZE")
    cur.execute("CREATE TABLE IF NOT EXISTS bench_staff_pages (consent_records bigint, requests bigint)")
    cur.execute("DELETE FROM bench_staff_pages")
    cur.execute("INSERT INTO bench_staff_pages VALUES (%s, %s)", [consent_records, requests])
    conn.close()
    log(f"filled in {time.monotonic() - started:.0f} s")


def page_urls(url: str) -> dict[str, str]:
    """The staff pages to time, with what each needs from the data (a consent id, a cursor, a website)."""
    conn = _connect(url)
    cur = conn.cursor()
    cur.execute("SELECT id FROM consent_property WHERE name = %s", [WEBSITES[0][0]])
    shop = cur.fetchone()[0]
    cur.execute("SELECT max(id) FROM consent_consentrecord")
    top = cur.fetchone()[0]
    # A record in the middle of the log: its consent id for the search, and a deep cursor at about half-way
    # (page 50,000 of 100 rows at ten million records).
    cur.execute(
        "SELECT consent_id, (extract(epoch FROM created_at) * 1000000)::bigint, id FROM consent_consentrecord"
        " WHERE id >= %s ORDER BY id LIMIT 1",
        [top // 2],
    )
    consent_id, micros, deep_id = cur.fetchone()
    cur.execute(
        "SELECT date_trunc('month', now() - interval '6 months')::date, date_trunc('month', now() - interval '5 months')::date"
    )
    month, next_month = cur.fetchone()
    cur.execute("SELECT id FROM retention_retentionrun ORDER BY started_at DESC LIMIT 1")
    run = cur.fetchone()[0]
    cur.execute("SELECT reference FROM requests_app_datarequest ORDER BY id DESC LIMIT 1")
    reference = cur.fetchone()[0]
    conn.close()
    log_url = "/admin/consent/consentrecord/"
    requests_url = "/admin/requests_app/datarequest/"
    month_range = {"created_at__gte": month.isoformat(), "created_at__lt": next_month.isoformat()}
    return {
        "admin home (dashboard)": "/admin/",
        "consent log, first page": log_url,
        "consent log, search by consent id": f"{log_url}?{urlencode({'q': str(consent_id)})}",
        "consent log, search that is not a consent id": f"{log_url}?{urlencode({'q': 'someone@example.com'})}",
        "consent log, deep page (half-way)": f"{log_url}?{urlencode({'older': f'{micros}-{deep_id}'})}",
        "consent log, one website": f"{log_url}?{urlencode({'property__id__exact': shop})}",
        "consent log, one month": f"{log_url}?{urlencode(month_range)}",
        "consent log, website + method + month": f"{log_url}?"
        + urlencode({"property__id__exact": shop, "method__exact": "reject_all", **month_range}),
        "website page (Demo shop)": f"/admin/consent/property/{shop}/change/",
        "request list, default (open, most urgent first)": requests_url,
        "request list, all": f"{requests_url}?status=all",
        "request list, overdue": f"{requests_url}?due=overdue",
        "request list, completed, GDPR": f"{requests_url}?status=completed&jurisdiction__exact=gdpr",
        "request list, search by reference": f"{requests_url}?{urlencode({'q': reference})}",
        "request metrics": f"{requests_url}metrics/",
        "record of processing": "/admin/registry/recordofprocessing/",
        "retention run reports": "/admin/retention/retentionrun/",
        "retention run report": f"/admin/retention/retentionrun/{run}/change/",
        "audit trail": "/admin/audit/auditevent/",
    }


class Browser:
    """A logged-in staff member's keep-alive HTTP connection, with its cookies."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        headers = {"Host": "127.0.0.1", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt:
                    raise
        for name, value in resp.getheaders():
            if name.lower() == "set-cookie":
                key, _sep, rest = value.partition("=")
                self.cookies[key.strip()] = rest.split(";", 1)[0]
        return resp, data

    def login(self) -> None:
        _resp, page = self.request("GET", "/admin/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        body = urlencode(
            {"csrfmiddlewaretoken": token, "username": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "next": "/admin/"}
        )
        resp, _data = self.request(
            "POST",
            "/admin/login/",
            body,
            {"Content-Type": "application/x-www-form-urlencoded", "Referer": "http://127.0.0.1/admin/login/"},
        )
        if resp.status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"login failed: HTTP {resp.status}")


def time_page(browser: Browser, path: str, warmups: int, repeat: int) -> list[float]:
    for _ in range(warmups):
        resp, _data = browser.request("GET", path)
        if resp.status != 200:
            raise SystemExit(f"{path}: HTTP {resp.status}")
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        resp, _data = browser.request("GET", path)
        out.append((time.perf_counter() - started) * 1000)
        if resp.status != 200:
            raise SystemExit(f"{path}: HTTP {resp.status}")
    return out


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: with 15 values, p95 is the 15th (the slowest), p50 the 8th."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil
    return ordered[int(rank) - 1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consent-records", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--keep", action="store_true", help="reuse the data set between runs (and keep it)")
    parser.add_argument("--json", action="store_true", help="print only one JSON object on stdout")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--warmups", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    url = args.database_url
    name = urlsplit(url).path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"not a plain database name: {name!r}")

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CACHE_URL": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/13"),
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(64),
        "PSEUDONYMISATION_KEY": os.environ.get("PSEUDONYMISATION_KEY") or secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CSRF_TRUSTED_ORIGINS": "http://127.0.0.1",
        "SITE_URL": "http://127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    reuse = args.keep and _filled_sizes(url) == (args.consent_records, args.requests)
    if not reuse:
        _admin_sql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _admin_sql(url, f'CREATE DATABASE "{name}"')
    log("migrating")
    _manage(env, "migrate", "--verbosity", "0")
    if not reuse:
        log(f"filling {args.consent_records:,} consent records and {args.requests:,} requests")
        fill(url, args.consent_records, args.requests)
        started = time.monotonic()
        log(_manage(env, "summarise_consent", "--full").strip() + f" ({time.monotonic() - started:.0f} s)")
        started = time.monotonic()
        log(_manage(env, "summarise_requests", "--full").strip() + f" ({time.monotonic() - started:.0f} s)")
    else:
        log(_manage(env, "summarise_consent").strip())
        log(_manage(env, "summarise_requests").strip())
    _manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; U = get_user_model(); "
        f"u = U.objects.filter(email={ADMIN_EMAIL!r}).first() or U(username='bench-staff', email={ADMIN_EMAIL!r}); "
        "u.is_staff = u.is_superuser = True; "
        f"u.set_password({ADMIN_PASSWORD!r}); u.save(); "
        "from allauth.account.models import EmailAddress; "
        f"EmailAddress.objects.get_or_create(user=u, email={ADMIN_EMAIL!r}, defaults={{'verified': True, 'primary': True}})",
    )
    pages = page_urls(url)
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "privacyportal.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-k",
            "gthread",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=sys.stderr,
    )
    results = {}
    try:
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start")
                time.sleep(0.2)
        browser = Browser(port)
        browser.login()
        load_before = os.getloadavg()
        for label, path in pages.items():
            times = time_page(browser, path, args.warmups, args.repeat)
            results[label] = {
                "url": path,
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(percentile(times, 95), 1),
                "max_ms": round(max(times), 1),
            }
            log(
                f"{label:<50} p50 {results[label]['p50_ms']:7.1f} ms  p95 {results[label]['p95_ms']:7.1f} ms  max {results[label]['max_ms']:7.1f} ms"
            )
        load_after = os.getloadavg()
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    if not args.keep:
        _admin_sql(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    report = {
        "pages": results,
        "consent_records": args.consent_records,
        "requests": args.requests,
        "load_average": {"before": round(load_before[0], 2), "after": round(load_after[0], 2)},
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{'page':<50} {'p50':>9} {'p95':>9} {'max':>9}")
        for label, r in results.items():
            print(f"{label:<50} {r['p50_ms']:7.1f}ms {r['p95_ms']:7.1f}ms {r['max_ms']:7.1f}ms")
        print(
            f"{args.consent_records:,} consent records, {args.requests:,} requests; load average "
            f"{load_before[0]:.1f} before, {load_after[0]:.1f} after"
        )
    slow = [label for label, r in results.items() if r["p95_ms"] >= 300]
    if slow:
        log("p95 at or over 300 ms: " + ", ".join(slow))
    return 0


if __name__ == "__main__":
    sys.exit(main())
