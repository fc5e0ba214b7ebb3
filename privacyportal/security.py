"""Production settings the portal refuses, and the deploy checks that report them.

``settings.py`` calls :func:`refuse_insecure_settings` with ``DEBUG`` off, so every process (``manage.py``
with any command, gunicorn, Celery) stops before it serves anything. ``manage.py check --deploy`` reports
the same keys when ``DEBUG`` is on, plus the embedded defaults a production run should not use.
"""

from django.core.checks import Warning as CheckWarning
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

# Local keys for DEBUG runs. They are public (they are in the repository), so they protect nothing.
DEV_SECRET_KEY = "insecure-local-only-change-me-in-production-0123456789"
DEV_PSEUDONYMISATION_KEY = "insecure-local-only-pseudonymisation-key-change-me-0123456789"
PUBLIC_KEYS = frozenset({DEV_SECRET_KEY, DEV_PSEUDONYMISATION_KEY})

HOW_TO_MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(64))"'


def key_problem(name: str, value: str) -> str | None:
    """Why ``value`` cannot serve as the key ``name`` in production, or None when it can.

    Weak means what Django's own ``check --deploy`` (security.W009) calls weak: shorter than 50
    characters, fewer than 5 distinct ones, or Django's ``django-insecure-`` prefix.
    """
    if not value:
        return f"{name} is not set."
    if value in PUBLIC_KEYS:
        return f"{name} is the repository's public local key."
    if (
        len(value) < SECRET_KEY_MIN_LENGTH
        or len(set(value)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or value.startswith(SECRET_KEY_INSECURE_PREFIX)
    ):
        return (
            f"{name} is too weak: it needs at least {SECRET_KEY_MIN_LENGTH} random characters "
            f"(at least {SECRET_KEY_MIN_UNIQUE_CHARACTERS} distinct)."
        )
    return None


def key_problems(*, SECRET_KEY: str, PSEUDONYMISATION_KEY: str) -> list[str]:  # noqa: N803 (the settings' names)
    """Every problem with the two keys, each naming its variable."""
    problems = [
        p
        for p in (key_problem("SECRET_KEY", SECRET_KEY), key_problem("PSEUDONYMISATION_KEY", PSEUDONYMISATION_KEY))
        if p
    ]
    if SECRET_KEY and SECRET_KEY == PSEUDONYMISATION_KEY:
        # One leaked key would then both forge sessions and re-identify every pseudonym.
        problems.append("PSEUDONYMISATION_KEY must differ from SECRET_KEY.")
    return problems


def refuse_insecure_settings(*, SECRET_KEY: str, PSEUDONYMISATION_KEY: str) -> None:  # noqa: N803
    """Raise ImproperlyConfigured, naming each variable, when a key cannot be used with DEBUG off."""
    problems = key_problems(SECRET_KEY=SECRET_KEY, PSEUDONYMISATION_KEY=PSEUDONYMISATION_KEY)
    if problems:
        raise ImproperlyConfigured(
            "Privacy Portal refuses to start with DEBUG off: "
            + " ".join(problems)
            + f" Set each to its own long random value, for example the output of {HOW_TO_MAKE_A_KEY}"
            " (or set DEBUG=true for a local run)."
        )


def check_production_settings(app_configs=None, **kwargs) -> list[CheckWarning]:
    """``check --deploy``: the keys, and embedded defaults (SQLite, console mail, plain-http links)."""
    from django.conf import settings

    found = [
        CheckWarning(p, hint=f"Generate one with {HOW_TO_MAKE_A_KEY}.", id="privacyportal.W001")
        for p in key_problems(SECRET_KEY=settings.SECRET_KEY, PSEUDONYMISATION_KEY=settings.PSEUDONYMISATION_KEY)
    ]
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        found.append(
            CheckWarning(
                "DATABASE_URL points at the embedded SQLite file.",
                hint="Use PostgreSQL (postgres://…): web, workers and beat share it.",
                id="privacyportal.W002",
            )
        )
    if not settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
        found.append(
            CheckWarning(
                "EMAIL_URL does not send mail (console or file).",
                hint="Use smtp://host:port or smtp+tls://user:pass@host:587.",
                id="privacyportal.W003",
            )
        )
    if not settings.SITE_URL.startswith("https://"):
        found.append(
            CheckWarning(
                "SITE_URL is not an https address: links in e-mails would carry secret tokens in the clear.",
                id="privacyportal.W004",
            )
        )
    return found
