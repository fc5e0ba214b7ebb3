#!/usr/bin/env bash
# `make run`: migrate, load demo data, then web + Celery worker + Celery beat on the embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG="${DEBUG:-true}"
export PORT="${PORT:-8000}"
PY=.venv/bin/python
CELERY=.venv/bin/celery

$PY manage.py migrate --noinput
$PY manage.py seed_demo --if-empty

cat <<MSG

  Privacy Portal is starting on http://127.0.0.1:${PORT}/
    privacy centre   http://127.0.0.1:${PORT}/
    admin            http://127.0.0.1:${PORT}/admin/
    staff login      $($PY manage.py shell --no-imports -c 'from django.conf import settings as s; print(s.DEMO_ADMIN_EMAIL, "/", s.DEMO_ADMIN_PASSWORD)' 2>/dev/null)
    demo users       password "demo-user-2026" (see seed_demo output above)
  Mail is printed below (EMAIL_URL switches to a real SMTP server). Ctrl-C stops everything.

MSG

pids=()
cleanup() { trap - EXIT INT TERM; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

$CELERY -A privacyportal worker --loglevel=INFO --concurrency=2 --without-gossip --without-mingle --without-heartbeat &
pids+=($!)
$CELERY -A privacyportal beat --loglevel=INFO --pidfile= &
pids+=($!)
$PY manage.py runserver "0.0.0.0:${PORT}" --noreload &
pids+=($!)
wait -n
