"""With DEBUG off the portal refuses to start on missing, public or weak keys; every process stops."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from privacyportal.security import DEV_PSEUDONYMISATION_KEY, DEV_SECRET_KEY, key_problem

ROOT = Path(settings.BASE_DIR)
# What an operator sets in production (DESIGN §5), keys apart; the database is SQLite, as check needs none.
PRODUCTION = {
    "DEBUG": "false",
    "ALLOWED_HOSTS": "privacy.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://privacy.example.com",
    "SITE_URL": "https://privacy.example.com",
    "NUM_PROXIES": "1",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
}


def _key() -> str:
    return secrets.token_urlsafe(64)


def _run(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run ``args`` in a fresh interpreter with the portal's own settings and nothing of the tests' keys."""
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "PSEUDONYMISATION_KEY", "DJANGO_SETTINGS_MODULE", "DEBUG", "DATABASE_URL")
    }
    full = {**base, **PRODUCTION, "VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "privacyportal.settings"}
    full.update(env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120
    )  # fmt: skip


def _check(tmp_path, **env: str) -> subprocess.CompletedProcess:
    return _run(tmp_path, "manage.py", "check", **env)


def test_check_refuses_missing_keys_and_names_both(tmp_path):
    done = _check(tmp_path)
    assert done.returncode != 0
    assert "SECRET_KEY is not set" in done.stderr and "PSEUDONYMISATION_KEY is not set" in done.stderr


@pytest.mark.parametrize(
    ("secret_key", "says"),
    [
        (DEV_SECRET_KEY, "the repository's public local key"),  # the repository's key, e.g. from a copied .env
        ("short-but-random-" + secrets.token_hex(8), "too weak"),
        ("ab" * 40, "too weak"),  # long but only two distinct characters
        ("django-insecure-" + secrets.token_urlsafe(50), "too weak"),
    ],
    # Fixed ids: every xdist worker must collect the same test names, whatever the random keys.
    ids=["public-local-key", "short", "two-characters", "django-insecure-prefix"],
)
def test_check_refuses_a_public_or_weak_secret_key(tmp_path, secret_key, says):
    done = _check(tmp_path, SECRET_KEY=secret_key, PSEUDONYMISATION_KEY=_key())
    assert done.returncode != 0
    assert f"SECRET_KEY is {says}" in done.stderr
    assert "PSEUDONYMISATION_KEY" not in done.stderr.split("refuses to start", 1)[1].split("Set each")[0]


def test_pseudonymisation_key_never_falls_back_to_the_secret_key(tmp_path):
    done = _check(tmp_path, SECRET_KEY=_key())
    assert done.returncode != 0 and "PSEUDONYMISATION_KEY is not set" in done.stderr
    same = _key()
    done = _check(tmp_path, SECRET_KEY=same, PSEUDONYMISATION_KEY=same)
    assert done.returncode != 0 and "PSEUDONYMISATION_KEY must differ from SECRET_KEY" in done.stderr
    done = _check(tmp_path, SECRET_KEY=_key(), PSEUDONYMISATION_KEY=DEV_PSEUDONYMISATION_KEY)
    assert done.returncode != 0 and "PSEUDONYMISATION_KEY is the repository's public local key" in done.stderr


def test_check_passes_with_long_random_keys(tmp_path):
    done = _check(tmp_path, SECRET_KEY=_key(), PSEUDONYMISATION_KEY=_key())
    assert done.returncode == 0, done.stderr[-2000:]


def test_commands_that_read_no_settings_and_the_wsgi_app_are_refused_too(tmp_path):
    """Django defers settings errors for some commands; the portal's refusal must stop them all."""
    for args in (["manage.py", "shell", "-c", "print('started')"], ["manage.py", "help"]):
        done = _run(tmp_path, *args)
        assert done.returncode != 0 and "SECRET_KEY" in done.stderr and "started" not in done.stdout
    # What gunicorn and Celery do first: load the application, hence the settings.
    done = _run(tmp_path, "-c", "import privacyportal.wsgi")
    assert done.returncode != 0 and "SECRET_KEY is not set" in done.stderr


def test_debug_runs_get_separate_local_keys_and_check_deploy_reports_both(tmp_path):
    probe = "from django.conf import settings as s; print(s.SECRET_KEY == s.PSEUDONYMISATION_KEY, bool(s.SECRET_KEY))"
    done = _run(tmp_path, "manage.py", "shell", "--no-imports", "-c", probe, DEBUG="true")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == ["False", "True"]
    done = _run(tmp_path, "manage.py", "check", "--deploy", DEBUG="true")
    out = done.stdout + done.stderr
    assert "SECRET_KEY is the repository's public local key" in out
    assert "PSEUDONYMISATION_KEY is the repository's public local key" in out


@given(st.text(max_size=49))
def test_key_shorter_than_fifty_characters_is_refused(value):
    assert key_problem("SECRET_KEY", value) is not None


@given(st.integers(min_value=38, max_value=128))
def test_random_tokens_of_fifty_characters_or_more_are_accepted(n):
    assert key_problem("SECRET_KEY", secrets.token_urlsafe(n)) is None
