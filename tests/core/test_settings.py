"""`.env.example` documents every setting, and copying it to `.env` changes nothing."""

import json
import re
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
EXAMPLE = ROOT / ".env.example"


def _variables_read_by_settings() -> set[str]:
    source = (ROOT / "privacyportal" / "settings.py").read_text()
    return set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]*)"', source))


def test_every_variable_settings_read_is_documented():
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", EXAMPLE.read_text(), flags=re.M))
    missing = _variables_read_by_settings() - documented
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_no_value_carries_an_inline_comment():
    for line in EXAMPLE.read_text().splitlines():
        if line and not line.startswith("#"):
            assert " #" not in line, f"an inline comment would become part of the value: {line!r}"


def test_copying_it_to_dot_env_keeps_the_defaults(tmp_path):
    """Load the settings twice in fresh interpreters: bare, and with .env.example read as .env."""
    probe = (
        "import environ, json, os, sys\n"
        "if sys.argv[1] == 'example': environ.Env.read_env(sys.argv[2], overwrite=True)\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'privacyportal.settings'\n"
        "from django.conf import settings as s\n"
        "keys = ['DEBUG', 'SECRET_KEY', 'ALLOWED_HOSTS', 'TIME_ZONE', 'DEFAULT_FROM_EMAIL', 'RETENTION_BATCH_SIZE',"
        " 'CONSENT_LOG_RETENTION_YEARS', 'DSR_HOLIDAYS', 'NUM_PROXIES']\n"
        "out = {k: getattr(s, k) for k in keys}\n"
        "out['pseudonymisation_is_secret_key'] = s.PSEUDONYMISATION_KEY == s.SECRET_KEY\n"
        "out['database'] = s.DATABASES['default']['ENGINE']\n"
        "print(json.dumps(out, default=str))\n"
    )
    import os

    # Only what Python needs: no setting may leak in from the environment the tests run in.
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    # With DEBUG off (the default) the portal starts only with keys of its own: .env.example holds none.
    clean.update(SECRET_KEY=settings.SECRET_KEY, PSEUDONYMISATION_KEY=settings.PSEUDONYMISATION_KEY)

    def run(mode: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-c", probe, mode, str(EXAMPLE)],
            cwd=tmp_path,
            env={**clean, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    bare, example = run("bare"), run("example")
    assert example == bare
    assert example["pseudonymisation_is_secret_key"] is False
