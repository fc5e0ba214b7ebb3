"""Settings for Privacy Portal.

Every value comes from the environment through django-environ and is read here
once; the rest of the code reads ``django.conf.settings``. ``.env.example``
lists every variable with its default. The defaults give a complete local run
with no server: SQLite, a filesystem Celery broker and mail to the console,
all under ``var/``.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ

from privacyportal.security import DEV_PSEUDONYMISATION_KEY, DEV_SECRET_KEY, refuse_insecure_settings

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- core -------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
# The local keys are public (they are in this file): only DEBUG gets them; with DEBUG off a missing,
# public or weak key stops start-up below, before any process (web, worker, beat, manage.py) serves.
SECRET_KEY = env("SECRET_KEY", default="") or (DEV_SECRET_KEY if DEBUG else "")
# Key for keyed-HMAC pseudonymisation: separate from SECRET_KEY, so that rotating one never re-identifies
# or orphans the other's values; keep it secret and stable.
PSEUDONYMISATION_KEY = env("PSEUDONYMISATION_KEY", default="") or (DEV_PSEUDONYMISATION_KEY if DEBUG else "")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PORT = env.int("PORT", default=8000)
# Absolute base URL for links in e-mails and embed snippets (no request in a worker).
SITE_URL = env("SITE_URL", default=f"http://127.0.0.1:{PORT}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.usersessions",
    "django_celery_beat",
    # Installed so that /api/docs serves Swagger UI from our own static files and starts it from a file,
    # not from a CDN with an inline script, which the CSP below refuses.
    "ninja",
    "core",
    "audit",
    "accounts",
    "policies",
    "consent",
    "requests_app",
    "registry",
    "retention",
    "systems",
    "fulfilment",
    "scanner",
    "console",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Every answer under /api/ is JSON, errors from anywhere in the stack included.
    "privacyportal.api_middleware.ApiJsonErrorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Above session, locale and CSRF: it takes their cookies and Vary off the banner's public responses.
    "consent.banner.middleware.PublicAssetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "policies.middleware.PolicyAcceptanceMiddleware",
]

ROOT_URLCONF = "privacyportal.urls"
WSGI_APPLICATION = "privacyportal.wsgi.application"
ASGI_APPLICATION = "privacyportal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "core.context_processors.portal",
                "consent.context_processors.portal_banner",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one SQLite file: WAL and immediate transactions
    # keep them from tripping over "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared between processes (rate limits, banner config): file cache locally, Redis in production.
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}

# --- i18n -------------------------------------------------------------------
LANGUAGE_CODE = env("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", "English"), ("fr", "Français"), ("nl", "Nederlands"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The organisation's time zone: legal deadlines are counted in it.
TIME_ZONE = env("TIME_ZONE", default="Europe/Brussels")
USE_I18N = True
USE_TZ = True

# --- static, uploads and private files --------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"
# Exports, attachments and reports live here, outside the web root; only views that check access serve them.
PRIVATE_ROOT = Path(env("PRIVATE_ROOT", default=str(VAR_DIR / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(PRIVATE_ROOT)}},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Finders serve the source files, which have no compressed siblings; once collectstatic has filled STATIC_ROOT
# (with .gz and .br beside each file), production serves those instead. DEBUG keeps finders for live edits.
WHITENOISE_USE_FINDERS = DEBUG or not any(STATIC_ROOT.iterdir())

# --- e-mail -----------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Privacy Portal <privacy@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- security ---------------------------------------------------------------
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Number of reverse proxies in front of the app; the client IP is taken from X-Forwarded-For accordingly.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
# allauth reads the client IP for its login, sign-up and reset limits itself: behind a proxy, without
# this every visitor would share the proxy's address and one person's failed logins would lock out all.
ALLAUTH_TRUSTED_PROXY_COUNT = NUM_PROXIES

# A strict Content-Security-Policy on every page: nothing but our own origin, no inline code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.ContainsDigitValidator"},
]

# --- accounts (django-allauth) -----------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
# allauth's forms with the portal's words on their fields (E-mail address, Keep me logged in, ...).
ACCOUNT_FORMS = {
    "login": "accounts.allauth_forms.LoginForm",
    "signup": "accounts.allauth_forms.SignupForm",
    "reset_password": "accounts.allauth_forms.ResetPasswordForm",
    "reset_password_from_key": "accounts.allauth_forms.ResetPasswordKeyForm",
    "add_email": "accounts.allauth_forms.AddEmailForm",
}
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if not DEBUG else "http"
ACCOUNT_RATE_LIMITS = {
    "login_failed": env("LOGIN_RATE_LIMIT", default="5/5m/ip,5/5m/key"),
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("REAUTHENTICATION_TIMEOUT", default=600)
USERSESSIONS_TRACK_ACTIVITY = True

# --- Celery -------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
# Redis hands a task a worker took but never acknowledged (it died) to another worker after the visibility
# timeout. It must outlast the longest task's hard time limit (retention.enforce_retention: 3 h 05 min), or a task
# still running would start a second time. Exports and erasures do not wait for it: the watchdog job
# (registry.resume_stalled_runs) picks them up within minutes of a crash.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=4 * 3600)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://", "sentinel://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
# An export or erasure still running with no progress for this long lost its worker: the watchdog resumes it.
FULFILMENT_STALL_MINUTES = env.int("FULFILMENT_STALL_MINUTES", default=10)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# Acknowledged once done, and put back when the worker process dies: a crash never loses a task. Every task
# is safe to run again (exports rebuild, erasures and retention resume from their checkpoints, mail is resent).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# django-celery-beat's database schedules, restricted to the portal's scheduled jobs (privacyportal/celery.py).
CELERY_BEAT_SCHEDULER = "retention.schedulers:ScheduledJobsScheduler"
CELERY_TIMEZONE = TIME_ZONE
DJANGO_CELERY_BEAT_TZ_AWARE = True

# --- privacy policies ---------------------------------------------------------
POLICY_NOTICE_BATCH_SIZE = env.int("POLICY_NOTICE_BATCH_SIZE", default=500)

# --- consent ------------------------------------------------------------------
CONSENT_API_RATE_LIMIT = env("CONSENT_API_RATE_LIMIT", default="120/m")
CONSENT_API_MAX_BODY_BYTES = env.int("CONSENT_API_MAX_BODY_BYTES", default=8192)
CONSENT_BANNER_CACHE_SECONDS = env.int("CONSENT_BANNER_CACHE_SECONDS", default=300)
# How long browsers and CDNs reuse banner.js without asking the portal: a new banner revision reaches every
# visitor, and re-prompts them, within this many seconds.
CONSENT_BANNER_PROPAGATION_SECONDS = env.int("CONSENT_BANNER_PROPAGATION_SECONDS", default=600)
# The property whose banner the portal's own pages embed.
PORTAL_CONSENT_PROPERTY_KEY = env("PORTAL_CONSENT_PROPERTY_KEY", default="")

# --- data-subject requests ----------------------------------------------------
DSR_DEFAULT_DEADLINE_DAYS = env.int("DSR_DEFAULT_DEADLINE_DAYS", default=30)
DSR_HOLIDAYS = env.list("DSR_HOLIDAYS", default=[])  # ISO dates skipped by business-day counts
DSR_REMINDER_OFFSETS_DAYS = env.list("DSR_REMINDER_OFFSETS_DAYS", cast=int, default=[7, 2])
DSR_ESCALATE_UNASSIGNED_DAYS = env.int("DSR_ESCALATE_UNASSIGNED_DAYS", default=2)
DSR_VERIFICATION_TTL = timedelta(hours=env.int("DSR_VERIFICATION_TTL_HOURS", default=72))
DSR_VERIFICATION_MAX_ATTEMPTS = env.int("DSR_VERIFICATION_MAX_ATTEMPTS", default=5)
DSR_UNVERIFIED_EXPIRY_DAYS = env.int("DSR_UNVERIFIED_EXPIRY_DAYS", default=14)
DSR_ATTACHMENT_MAX_BYTES = env.int("DSR_ATTACHMENT_MAX_BYTES", default=5 * 1024 * 1024)
DSR_INTAKE_RATE_LIMIT_IP = env("DSR_INTAKE_RATE_LIMIT_IP", default="10/h")
DSR_INTAKE_RATE_LIMIT_EMAIL = env("DSR_INTAKE_RATE_LIMIT_EMAIL", default="5/h")
# Mails an address receives before it is verified (acknowledgements, verification links), whoever asks for them.
DSR_UNVERIFIED_MAILS_PER_ADDRESS = env("DSR_UNVERIFIED_MAILS_PER_ADDRESS", default="10/d")
# Access, portability, restriction and objection confirmed only by the e-mail link wait for a staff approval.
DSR_EMAIL_ONLY_NEEDS_APPROVAL = env.bool("DSR_EMAIL_ONLY_NEEDS_APPROVAL", default=True)
# Each message a requester posts on their status page mails staff: capped per request and per address.
DSR_MESSAGE_RATE_LIMIT_REQUEST = env("DSR_MESSAGE_RATE_LIMIT_REQUEST", default="10/h")
DSR_MESSAGE_RATE_LIMIT_IP = env("DSR_MESSAGE_RATE_LIMIT_IP", default="30/h")

# --- registry, fulfilment and retention ---------------------------------------
# Connected systems answered by a person (or an HTTP system whose calls kept failing): the owner's task is due
# this many days before the request's legal deadline; its mailed link works that many days past the due date.
SYSTEM_TASK_DAYS_BEFORE_DEADLINE = env.int("SYSTEM_TASK_DAYS_BEFORE_DEADLINE", default=5)
SYSTEM_TASK_LINK_GRACE_DAYS = env.int("SYSTEM_TASK_LINK_GRACE_DAYS", default=7)
SYSTEM_TASK_MAX_UPLOAD_BYTES = env.int("SYSTEM_TASK_MAX_UPLOAD_BYTES", default=20_000_000)
# An HTTP system's call is retried with backoff (30 s doubling, at most 30 min apart) this many times, about a day
# in all, before the task goes to the system's owner by mail.
SYSTEM_TASK_HTTP_RETRIES = env.int("SYSTEM_TASK_HTTP_RETRIES", default=50)
# An owner's open task is recalled to them this many days before its due date (a fresh link each time); once past
# due, the privacy officers get one digest a day of the overdue tasks (remind_system_tasks, hourly).
SYSTEM_TASK_REMINDER_DAYS = env.list("SYSTEM_TASK_REMINDER_DAYS", cast=int, default=[3, 1])
# Recipients told of an erasure, a restriction (GDPR Art. 19) or a withdrawn consent have this many days ("without
# undue delay"); a CCPA opt-out has 15 business days, fixed by the regulation.
PROPAGATION_GDPR_DAYS = env.int("PROPAGATION_GDPR_DAYS", default=30)
EXPORT_LINK_DAYS = env.int("EXPORT_LINK_DAYS", default=7)
RETENTION_BATCH_SIZE = env.int("RETENTION_BATCH_SIZE", default=5000)
CONSENT_LOG_RETENTION_YEARS = env.int("CONSENT_LOG_RETENTION_YEARS", default=5)
INACTIVE_ACCOUNT_WARNING_MONTHS = env.int("INACTIVE_ACCOUNT_WARNING_MONTHS", default=24)
INACTIVE_ACCOUNT_GRACE_DAYS = env.int("INACTIVE_ACCOUNT_GRACE_DAYS", default=30)
ACCOUNT_DELETION_GRACE_DAYS = env.int("ACCOUNT_DELETION_GRACE_DAYS", default=14)

# --- website scanner (manage.py scan_website, "Scan now", the monthly scan) ------------------------------
# Chromium for the scanner: empty means Debian's /usr/bin/chromium when present, else Playwright's own download.
SCANNER_CHROMIUM = env("SCANNER_CHROMIUM", default="")
SCANNER_MAX_PAGES = env.int("SCANNER_MAX_PAGES", default=50)
# Seconds between two page loads on one host (each page is loaded once per consent state).
SCANNER_HOST_INTERVAL_SECONDS = env.float("SCANNER_HOST_INTERVAL_SECONDS", default=1.0)
# One task runs this long at most, then checkpoints and queues the rest of the scan as a new task.
SCANNER_TASK_SECONDS = env.int("SCANNER_TASK_SECONDS", default=420)
SCANNER_PAGE_TIMEOUT_SECONDS = env.int("SCANNER_PAGE_TIMEOUT_SECONDS", default=30)
# The banner's cost (LCP, CLS, time until it can be used) is measured on this many pages of a scan (4 loads each).
SCANNER_COST_PAGES = env.int("SCANNER_COST_PAGES", default=5)

# --- demo data ------------------------------------------------------------------
DEMO_ADMIN_EMAIL = env("DEMO_ADMIN_EMAIL", default="admin@example.com")
DEMO_ADMIN_PASSWORD = env("DEMO_ADMIN_PASSWORD", default="portal-admin-2026")
# The demo's connected system (a web shop in an SQLite file); ``make run`` exports it for web and worker.
DEMO_SHOP_DATABASE_URL = env("DEMO_SHOP_DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'demo_shop.sqlite3'}")
# The systems engine reads a connection from the variable its declaration names; every process started from this
# settings module (web, worker, beat, each manage.py command) gets the demo shop's, unless it was set.
os.environ.setdefault("DEMO_SHOP_DATABASE_URL", DEMO_SHOP_DATABASE_URL)

if not DEBUG:
    refuse_insecure_settings(SECRET_KEY=SECRET_KEY, PSEUDONYMISATION_KEY=PSEUDONYMISATION_KEY)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
