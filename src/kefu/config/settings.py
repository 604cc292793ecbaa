"""kefu settings: one module, driven by KEFU_* environment variables (typed once, here)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent  # src/kefu


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


TESTING = env_bool("KEFU_TESTING") or "pytest" in sys.modules

DATA_DIR = Path(os.environ.get("KEFU_DATA_DIR") or "./var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    key = os.environ.get("KEFU_SECRET_KEY")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("KEFU_DEBUG")
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("KEFU_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("KEFU_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "ninja",
    "django_htmx",
    "axes",
    "kefu.core",
    "kefu.audit",
    "kefu.accounts",
    "kefu.customers",
    "kefu.knowledge",
    "kefu.tickets",
    "kefu.sla",
    "kefu.channels",
    "kefu.bot",
    "kefu.notifications",
    "kefu.voc",
    "kefu.loops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kefu.core.middleware.UserTimezoneMiddleware",
    "kefu.audit.context.AuditContextMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses sign-ins while an account/IP is locked out
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("KEFU_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Content-Security-Policy: no inline scripts anywhere; the console's JS is static files.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "media-src": [CSP.SELF, "blob:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

ROOT_URLCONF = "kefu.config.urls"
WSGI_APPLICATION = "kefu.config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "kefu.tickets.context_processors.nav_sections",
                "kefu.voc.context_processors.voc_tabs",
                "kefu.loops.context_processors.loops_tabs",
            ],
        },
    }
]

# --- database -----------------------------------------------------------------------------
DATABASE_URL = os.environ.get("KEFU_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'kefu.sqlite3'}"
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("KEFU_DB_CONN_MAX_AGE", 600))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0 if TESTING else _db["CONN_MAX_AGE"]
    _db["OPTIONS"] = {
        # WAL lets readers work during a write; IMMEDIATE takes the write lock up front so concurrent
        # writers queue on busy_timeout instead of failing with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
else:
    _db.setdefault("OPTIONS", {})
    _db["CONN_HEALTH_CHECKS"] = True
_test_name = os.environ.get("KEFU_TEST_DATABASE_NAME")
if not _test_name and _db["ENGINE"] == "django.db.backends.sqlite3":
    # a file, not shared-cache memory: concurrency tests need real locking with busy timeouts
    _test_name = str(DATA_DIR / "test_kefu.sqlite3")
_db["TEST"] = {"NAME": _test_name or None}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background worker (Huey) ---------------------------------------------------------------
REDIS_URL = os.environ.get("KEFU_REDIS_URL", "")
HUEY = {
    "name": "kefu",
    "immediate": env_bool("KEFU_HUEY_IMMEDIATE") or TESTING,  # tests run tasks inline on enqueue
    "consumer": {"workers": env_int("KEFU_WORKER_THREADS", 2), "worker_type": "thread"},
}
if REDIS_URL:
    HUEY.update({"huey_class": "huey.RedisHuey", "url": REDIS_URL})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(DATA_DIR / "tasks.sqlite3")})

# --- cache (rate limits): one per machine on disk (shared by the gunicorn workers), Redis across
# machines, process memory in tests (cleared by the tests that count)
if TESTING:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
elif REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }

# --- email ----------------------------------------------------------------------------------
# KEFU_EMAIL_URL: smtp://user:pass@host:25 (plain), smtp+starttls://…:587, smtps://…:465 (implicit
# TLS) → the default mailer (Django 6.1 MAILERS; the EMAIL_* settings are deprecated). Unset: one
# file per message in DATA_DIR/mail, so a demo can read what was sent. Never log the URL (password).
from kefu.notifications.email_url import parse_email_url  # noqa: E402

MAILERS = {"default": parse_email_url(os.environ.get("KEFU_EMAIL_URL"), mail_dir=DATA_DIR / "mail")}
DEFAULT_FROM_EMAIL = os.environ.get("KEFU_EMAIL_FROM") or "kefu <kefu@localhost>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# `kefu smtpd`: where it listens for piped mail (loopback by default; put it behind your MTA)
KEFU_SMTPD_HOST = os.environ.get("KEFU_SMTPD_HOST") or "127.0.0.1"
KEFU_SMTPD_PORT = env_int("KEFU_SMTPD_PORT", 2525)
KEFU_BASE_URL = (os.environ.get("KEFU_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")  # links in emails

# --- i18n, time ---------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- files --------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG or TESTING
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
MEDIA_ROOT = DATA_DIR / "uploads"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
KEFU_MAX_ATTACHMENT_BYTES = env_int("KEFU_MAX_ATTACHMENT_MB", 25) * 1024 * 1024
KEFU_MAX_ATTACHMENTS = 10
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # form fields only; files do not count
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # larger uploads stream to a temporary file
# public repair requests (web form, mini-program): per-file limits (up to 9 photos and 2 videos, so a
# form's body may be 9 × photo + 2 × video + 1 MB) and submissions per IP per hour / per phone per day
KEFU_REPAIR_MAX_IMAGE_MB = env_int("KEFU_REPAIR_MAX_IMAGE_MB", 10)
KEFU_REPAIR_MAX_VIDEO_MB = env_int("KEFU_REPAIR_MAX_VIDEO_MB", 100)
KEFU_REPAIR_LIMIT_PER_IP_HOUR = env_int("KEFU_REPAIR_LIMIT_PER_IP_HOUR", 10)
KEFU_REPAIR_LIMIT_PER_PHONE_DAY = env_int("KEFU_REPAIR_LIMIT_PER_PHONE_DAY", 5)
# reverse proxies in front of kefu that append the client's address to X-Forwarded-For (0: none, the
# peer address is the client's); rate limits per IP need the real client address
KEFU_TRUSTED_PROXY_HOPS = env_int("KEFU_TRUSTED_PROXY_HOPS", 0)
# public help center and answer bot
KEFU_BOT_LIMIT_PER_IP_MINUTE = env_int("KEFU_BOT_LIMIT_PER_IP_MINUTE", 30)
KEFU_HELP_SEARCH_LIMIT = env_int("KEFU_HELP_SEARCH_LIMIT", 60)
KEFU_HELP_VOTE_LIMIT = env_int("KEFU_HELP_VOTE_LIMIT", 30)
KEFU_HELP_VOTE_WINDOW = env_int("KEFU_HELP_VOTE_WINDOW", 600)

# --- security -----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("KEFU_SECURE_COOKIES")
CSRF_COOKIE_SECURE = env_bool("KEFU_SECURE_COOKIES")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KEFU_LOG_LEVEL", "WARNING")},
}

NINJA_PAGINATION_MAX_LIMIT = 200
