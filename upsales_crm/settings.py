"""Settings, read from the environment (see README "Configuration").

Embedded default: SQLite + django-q2 ORM broker + the built-in provider emulator.
At scale: DATABASE_URL=postgres://..., REDIS_URL=redis://... and several `qcluster` workers.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

from calendar_sync.providers.registry import with_oauth as calendar_oauth_providers

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str(
    "SECRET_KEY",
    default="dev-insecure-secret-key-change-me" if DEBUG else environ.Env.NOTSET,
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_htmx",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "social_django",
    "django_q",
    "contacts",
    "appointments",
    "calendar_sync",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "upsales_crm.middleware.RejectControlCharactersMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "upsales_crm.middleware.UserTimeZoneMiddleware",
    "upsales_crm.middleware.StaffMfaRequiredMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "upsales_crm.urls"
WSGI_APPLICATION = "upsales_crm.wsgi.application"

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
                "upsales_crm.context_processors.site",
                "calendar_sync.context_processors.calendar_banner",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Workers and web processes keep their connection (checked before reuse) instead of opening
# one per task or request: measured 15-20 % of an unchanged sync on PostgreSQL.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout so the web process and the q2 worker can share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, sharing one Redis client per pool (see upsales_crm/cache.py).
            "BACKEND": "upsales_crm.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default=""),
        }
    }
else:
    # One host (SQLite): files shared by the web process and the workers, no database queries.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env.str("CACHE_DIR", default=str(BASE_DIR / ".cache")),
            # Django's default (300 files) culls a third of them at random once reached: the
            # user directory alone keeps an entry per rep (``contacts.selectors``).
            "OPTIONS": {"MAX_ENTRIES": env.int("CACHE_MAX_ENTRIES", default=100_000)},
        }
    }

Q_WORKERS = env.int("Q_WORKERS", default=2)
Q_CLUSTER: dict = {
    "name": env.str("Q_CLUSTER_NAME", default="upsales_crm"),  # the broker's queue name
    "workers": Q_WORKERS,
    "timeout": 240,
    "retry": 300,
    "max_attempts": 3,
    # Tasks a cluster prefetches; keep it low with several clusters so they share the work.
    "queue_limit": env.int("Q_QUEUE_LIMIT", default=2 * Q_WORKERS),
    "catch_up": False,
    "label": "Django Q2",
    "sync": env.bool("Q_SYNC", default=False),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 0.5

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# --- allauth: sign in by e-mail, TOTP available --------------------------------------------
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="none")
ACCOUNT_ALLOW_REGISTRATION = env.bool("ACCOUNT_ALLOW_REGISTRATION", default=False)
ACCOUNT_ADAPTER = "upsales_crm.adapters.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Upsales CRM"
# Staff and superusers must have set up two-factor authentication to use the admin (on by default
# in production; the demo's admin has none).
MFA_REQUIRED_FOR_STAFF = env.bool("MFA_REQUIRED_FOR_STAFF", default=not DEBUG)
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "appointments:calendar"
LOGOUT_REDIRECT_URL = "account_login"

# --- i18n -------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("sv", _("Swedish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Stockholm")
USE_I18N = True
USE_TZ = True
# The organisation's working hours, highlighted on the calendar (HH:MM, Monday to Friday).
WORKING_HOURS = tuple(env.list("WORKING_HOURS", default=["08:00", "17:00"]))
# One date/time format on every page, per language (templates use DATE_FORMAT etc.).
FORMAT_MODULE_PATH = ["upsales_crm.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Alerts (a calendar that needs reconnecting) go through Django's e-mail backend: printed to the
# console unless SMTP is configured (EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend).
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="crm@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Also told when a calendar stops syncing (besides staff who may view every rep's connection):
# "Name <e-mail>" or bare e-mail entries, comma separated.
ADMINS = [
    (name.strip(), (email or name).strip(" >"))
    for name, _sep, email in (a.partition("<") for a in env.list("ADMINS", default=[]))
]

# --- DRF ----------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "upsales_crm.api_auth.ZonedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "upsales_crm.pagination.CursorPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Upsales CRM API",
    "DESCRIPTION": (
        "Companies, contacts, appointments, and calendar availability/rooms.\n\n"
        "**Time zones.** Every date-time is ISO 8601 with its UTC offset. Requests may use any "
        "offset (a written date-time without one is read in your zone; list filters need one); "
        "the CRM stores UTC. Responses give times "
        "in the signed-in user's time zone (Settings → My profile; unset, the organisation's: "
        f"`{TIME_ZONE}`), with that zone's offset. All-day appointments are calendar dates, "
        f"kept as midnight in `{TIME_ZONE}` to midnight after the last day."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from our own static files (drf-spectacular-sidecar), never from a CDN.
    "ENUM_NAME_OVERRIDES": {"ExclusionListEnum": ["personal", "organisation"]},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Calendar providers -------------------------------------------------------------------------
# When set, every provider client (OAuth, Google Calendar, Graph) talks to the built-in emulator.
CALENDAR_EMULATOR_URL = env.str("CALENDAR_EMULATOR_URL", default="").rstrip("/")
# The public base URL of this CRM, used for push webhooks (Google channels, Graph subscriptions).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# Fernet keys (comma separated, newest first) for tokens and secrets at rest; rotate by prepending.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
SYNC_WINDOW_DAYS = env.int("SYNC_WINDOW_DAYS", default=92)
# At most this many occurrences of one recurring series are logged (0 = no cap); the rest are
# skipped with the reason "series_capped", so a series every 30 minutes cannot flood the CRM.
SYNC_SERIES_CAP = env.int("SYNC_SERIES_CAP", default=100)
# Consecutive provider pages imported in one transaction while they hold at most this many
# events together (a Google page holds up to 2,500, a Graph page 1,000): bounds a sync's memory.
SYNC_IMPORT_BATCH_EVENTS = env.int("SYNC_IMPORT_BATCH_EVENTS", default=2500)
# The polling backstop (calendar_sync.sync.polling): every connection once per
# SYNC_POLL_MINUTES at its own offset (0 = no polling: push only), once per
# SYNC_POLL_PUSHED_MINUTES while its push channel is live; SYNC_POLL_BATCH connections per task;
# at most SYNC_QUEUE_LIMIT tasks waiting in the broker.
SYNC_POLL_MINUTES = env.int("SYNC_POLL_MINUTES", default=10)
SYNC_POLL_PUSHED_MINUTES = env.int("SYNC_POLL_PUSHED_MINUTES", default=60)
SYNC_POLL_BATCH = env.int("SYNC_POLL_BATCH", default=25)
SYNC_QUEUE_LIMIT = env.int("SYNC_QUEUE_LIMIT", default=2000)

# --- social-auth (calendar linking only) ---------------------------------------------------------
# social-auth never signs anyone in: its backends are deliberately NOT in AUTHENTICATION_BACKENDS
# (the strategy calls them directly), and the pipeline only links a calendar account to the rep
# who is already signed in (with TOTP, via allauth). Tokens live encrypted on CalendarConnection.
# One backend per provider in the registry (calendar_sync/providers/registry.py), with PKCE.
CALENDAR_OAUTH_PROVIDERS = calendar_oauth_providers()
# (Providers reps connect with a password instead, ``connect_kind = "credentials"``, have none.)
SOCIAL_AUTH_AUTHENTICATION_BACKENDS = [p.oauth_backend for p in CALENDAR_OAUTH_PROVIDERS]
for _provider in CALENDAR_OAUTH_PROVIDERS:
    globals()[f"SOCIAL_AUTH_{_provider.backend_name.upper().replace('-', '_')}_USE_PKCE"] = True
SOCIAL_AUTH_STRATEGY = "calendar_sync.pipeline.CalendarLinkStrategy"
SOCIAL_AUTH_PIPELINE = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.auth_allowed",
    "calendar_sync.pipeline.link_calendar",
)
SOCIAL_AUTH_URL_NAMESPACE = "social"
SOCIAL_AUTH_LOGIN_REDIRECT_URL = "calendar_sync:index"
SOCIAL_AUTH_LOGIN_ERROR_URL = "calendar_sync:index"
SOCIAL_AUTH_RAISE_EXCEPTIONS = True  # calendar_sync.views turns them into messages
SOCIAL_AUTH_REQUESTS_TIMEOUT = 10
# --- end social-auth ------------------------------------------------------------------------------

# --- Security (production = DEBUG off) ---------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Content-Security-Policy on every response (django-csp): scripts only from our own static files
# (no inline script anywhere), nothing from another origin. Inline *styles* stay allowed: the
# calendar (FullCalendar) and htmx inject their CSS at run time.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Every handler redacts secrets (tokens, OAuth codes, Graph clientState, Google channel tokens),
# the development server's access log included (a callback URL carries ?code=...).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "upsales_crm.logging.RedactSecretsFilter"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "googleapiclient.discovery_cache": {"level": "ERROR"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}
