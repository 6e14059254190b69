"""Settings, read from the environment, with embedded defaults so that nothing is needed to try it.

Every variable is optional for the demo (SQLite, an embedded broker, mail kept in var/mailbox);
production (DEBUG off) refuses to start without SECRET_KEY. See .env.example.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Variables from a file, under those of the environment: `.env` in the checkout (`make` writes one
# with a generated SECRET_KEY for local use), or the file ENV_FILE names ("" reads none).
_ENV_FILE = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if _ENV_FILE and Path(_ENV_FILE).is_file():
    environ.Env.read_env(_ENV_FILE)


def _secret(name: str, default: str | None = None) -> str | None:
    """A secret from NAME or from the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default=default)


VAR_DIR = Path(env.str("CSAT_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = _secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production (DEBUG=0) refuses to start without one; "
            "set SECRET_KEY or SECRET_KEY_FILE, or run the demo with DEBUG=1."
        )
    # The demo generates its own local secret once and keeps it, so links in mails stay valid.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    SECRET_KEY = key_file.read_text().strip()
elif not DEBUG and (len(SECRET_KEY) < 32 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured("SECRET_KEY is too short or insecure for production.")
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
_site_host = SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
if _site_host and _site_host not in ALLOWED_HOSTS and "*" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(_site_host)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "anymail",
    "axes",
    "csp",
    "access",
    "branding",
    "surveys",
    "reports",
    "privacy",
    "connectors",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csat_platform.middleware.PrivateByDefaultMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "csat_platform.boundary.InputBoundaryMiddleware",  # NUL & co.: a 400 before any view
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "csat_platform.urls"
WSGI_APPLICATION = "csat_platform.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "access.context_processors.roles",
                "branding.context_processors.brand",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'csat.sqlite3'}"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and the Celery worker share the demo database.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Counts failed logins on both login pages and refuses a locked-out account or address.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Languages the product ships; a survey may use any of them.
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("nl", "Nederlands"),
    ("pl", "Polski"),
    ("da", "Dansk"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Uploaded files (touchpoint CSV files): shared by the web and the worker processes.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
CSAT_UPLOAD_MAX_MB = env.int("CSAT_UPLOAD_MAX_MB", default=100)
# The brand's logo (settings page /settings/brand/): the largest file accepted, in KB.
CSAT_LOGO_MAX_KB = env.int("CSAT_LOGO_MAX_KB", default=1024)
if not 1 <= CSAT_LOGO_MAX_KB <= 10240:
    raise ImproperlyConfigured("CSAT_LOGO_MAX_KB must be between 1 and 10240.")
# An import queued or running without a committed batch for this long has stalled: its page
# offers to resume it. A batch of 1,000 takes seconds; a worker restart, a minute or so.
CSAT_UPLOAD_STALL_MINUTES = env.int("CSAT_UPLOAD_STALL_MINUTES", default=10)
if CSAT_UPLOAD_STALL_MINUTES < 1:
    raise ImproperlyConfigured("CSAT_UPLOAD_STALL_MINUTES must be at least 1.")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Mail --------------------------------------------------------------------------------------
# EMAIL_URL: smtp://user:pass@host:port, smtp+tls://..., smtp+ssl://..., consolemail://,
# or mailbox:///path (the default: every message kept as an .eml file under var/mailbox, readable
# by admins at /mailbox/).
EMAIL_URL = env.str("EMAIL_URL", default="")
MAILBOX_DIR = None
if not EMAIL_URL or EMAIL_URL.startswith("mailbox:"):
    MAILBOX_DIR = Path(EMAIL_URL.split("://", 1)[1] if "://" in EMAIL_URL else "") or None
    if not MAILBOX_DIR or str(MAILBOX_DIR) in ("", "."):
        MAILBOX_DIR = VAR_DIR / "mailbox"
    EMAIL_BACKEND = "csat_platform.mailbox.MailboxBackend"
else:
    vars().update(env.email_url("EMAIL_URL"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CSAT <surveys@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# --- Celery ------------------------------------------------------------------------------------
# Without CELERY_BROKER_URL an embedded broker on the file system is used: no server to install.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for sub in ("queue", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {}

# --- Sending -------------------------------------------------------------------------------------
# The database holds what is due; beat only says "look now". See docs/sending.md.
CSAT_SEND_INTERVAL_SECONDS = env.float("CSAT_SEND_INTERVAL_SECONDS", default=5.0)
CSAT_SEND_BATCH_SIZE = env.int("CSAT_SEND_BATCH_SIZE", default=200)
CSAT_SEND_MAX_BATCHES = env.int("CSAT_SEND_MAX_BATCHES", default=40)  # per beat tick
CSAT_SEND_LEASE_SECONDS = env.int("CSAT_SEND_LEASE_SECONDS", default=300)
CSAT_SEND_MAX_ATTEMPTS = env.int("CSAT_SEND_MAX_ATTEMPTS", default=6)
CSAT_SEND_RETRY_SECONDS = env.int("CSAT_SEND_RETRY_SECONDS", default=60)  # doubles per attempt
CSAT_SEND_DURABLE_COMMITS = env.bool("CSAT_SEND_DURABLE_COMMITS", default=False)
if CSAT_SEND_BATCH_SIZE < 1 or CSAT_SEND_LEASE_SECONDS < 2 or CSAT_SEND_INTERVAL_SECONDS <= 0:
    raise ImproperlyConfigured(
        "CSAT_SEND_BATCH_SIZE must be ≥ 1, CSAT_SEND_LEASE_SECONDS ≥ 2, "
        "CSAT_SEND_INTERVAL_SECONDS > 0."
    )
CELERY_BEAT_SCHEDULE["send-due-invitations"] = {
    "task": "surveys.tasks.dispatch_due_invitations",
    "schedule": CSAT_SEND_INTERVAL_SECONDS,
    # A tick nobody picked up in time is dropped: the next one sees the same rows.
    "options": {"expires": max(CSAT_SEND_INTERVAL_SECONDS * 2, 2)},
}
CELERY_BEAT_SCHEDULE["expire-invitations"] = {
    "task": "surveys.tasks.expire_invitations",
    "schedule": 300.0,
    "options": {"expires": 300},
}
# Bounce and complaint webhooks at /anymail/<esp>/tracking/ (surveys.webhooks), protected by HTTP
# basic auth "user:password" (several, comma-separated, while rotating). Unset, they answer 403:
# django-anymail alone would accept anyone's events. Other anymail settings come from
# ANYMAIL_<NAME> variables, e.g. ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY.
ANYMAIL: dict = {
    name.removeprefix("ANYMAIL_").removesuffix("_FILE"): ""
    for name in os.environ
    if name.startswith("ANYMAIL_") and name != "ANYMAIL_WEBHOOK_SECRET"
}
ANYMAIL = {name: _secret(f"ANYMAIL_{name}", default="") for name in ANYMAIL}
ANYMAIL["WEBHOOK_SECRET"] = [
    s.strip() for s in (_secret("ANYMAIL_WEBHOOK_SECRET", default="") or "").split(",") if s.strip()
]
if any(":" not in s[1:-1] for s in ANYMAIL["WEBHOOK_SECRET"]):
    raise ImproperlyConfigured(
        'ANYMAIL_WEBHOOK_SECRET must be "user:password" (or several, comma-separated); '
        "put the same user and password into the webhook URL at your email provider."
    )

# --- API ---------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "access.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["access.permissions.IsSurveyAdmin"],
    "DEFAULT_SCHEMA_CLASS": "access.schema.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["csat_platform.boundary.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "csat_platform.boundary.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "access.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    # Swagger UI from our own static files (drf-spectacular-sidecar): no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No call to the public validator service (and its badge image) from the docs page.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "TITLE": "CSAT platform API",
    "DESCRIPTION": "Surveys, invitations, touchpoint events and CSAT reports.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "ENUM_NAME_OVERRIDES": {"SurveyStatusEnum": "surveys.models.Survey.Status"},
}

# --- Security ----------------------------------------------------------------------------------
# Behind a reverse proxy that terminates TLS, say how many proxies stand in front (usually 1):
# only then is its X-Forwarded-Proto trusted for "is this HTTPS?" and its X-Forwarded-For for the
# client's address (login throttling). Without a proxy, any client could claim either.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 (no proxy) or the number of proxies.")
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])
if not SECURE_HSTS_PRELOAD:
    # Preloading is a one-way decision for the operator's whole domain, not ours to make.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# Content-Security-Policy on every page: scripts and styles only from our own static files (no
# inline code, no CDN), no plugins, no framing. The mailbox's message view sets its own, stricter
# policy for the email HTML it shows.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Login throttling (django-axes), on /accounts/login/ and /admin/login/: after
# LOGIN_FAILURE_LIMIT failed attempts for one user name, or from one client address, that account
# or address is refused for LOGIN_LOCKOUT_MINUTES (it ends by itself; a new failure restarts it).
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
LOGIN_LOCKOUT_MINUTES = env.float("LOGIN_LOCKOUT_MINUTES", default=15.0)
if AXES_FAILURE_LIMIT < 1 or LOGIN_LOCKOUT_MINUTES <= 0:
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT must be ≥ 1 and LOGIN_LOCKOUT_MINUTES > 0.")
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A successful login does not wipe the count: it would also wipe failures from the same address
# against other accounts. Failures expire with the lock-out time.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "access.lockout.locked_out"
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if TRUSTED_PROXY_COUNT else ("REMOTE_ADDR",)
)
AXES_VERBOSE = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# --- Reports -----------------------------------------------------------------------------------
# Rollups follow new answers, sends and touchpoint events within a minute.
# A dimension (an attribute such as order_id) with more distinct values than this on one survey
# day gets no rollup rows that day: reports that need it read the raw rows (slower, still exact).
REPORTS_MAX_DIMENSION_VALUES = env.int("REPORTS_MAX_DIMENSION_VALUES", default=1000)
if REPORTS_MAX_DIMENSION_VALUES < 1:
    raise ImproperlyConfigured("REPORTS_MAX_DIMENSION_VALUES must be at least 1.")
CELERY_BEAT_SCHEDULE["reports-refresh-rollups"] = {
    "task": "reports.refresh_rollups",
    "schedule": env.float("REPORTS_REFRESH_SECONDS", default=30.0),
}

# --- Dashboards, comments and export -----------------------------------------------------------
# Mask email addresses and phone numbers customers type into comments, on every page and export.
HIDE_CONTACT_DETAILS_IN_COMMENTS = env.bool("HIDE_CONTACT_DETAILS_IN_COMMENTS", default=True)
# Export each response's customer (email, name, external id); off: exports without personal data.
EXPORT_CUSTOMER_DETAILS = env.bool("EXPORT_CUSTOMER_DETAILS", default=True)

# --- Follow-ups (closing the loop) ------------------------------------------------------------
INSTALLED_APPS += ["followups"]
FOLLOWUPS_WEBHOOK_MAX_ATTEMPTS = env.int("FOLLOWUPS_WEBHOOK_MAX_ATTEMPTS", default=8)
FOLLOWUPS_WEBHOOK_RETRY_BASE_SECONDS = env.int("FOLLOWUPS_WEBHOOK_RETRY_BASE_SECONDS", default=30)
FOLLOWUPS_WEBHOOK_RETRY_MAX_SECONDS = env.int("FOLLOWUPS_WEBHOOK_RETRY_MAX_SECONDS", default=3600)
FOLLOWUPS_WEBHOOK_TIMEOUT_SECONDS = env.int("FOLLOWUPS_WEBHOOK_TIMEOUT_SECONDS", default=10)

# --- Connectors: shops' and helpdesks' webhooks in (/hooks/<id>/) ---------------------------------
CONNECTORS_MAX_BODY_BYTES = env.int("CONNECTORS_MAX_BODY_BYTES", default=512 * 1024)
CONNECTORS_DELIVERY_RETENTION = env.int(
    "CONNECTORS_DELIVERY_RETENTION", default=500
)  # per connector
if CONNECTORS_MAX_BODY_BYTES < 1024 or CONNECTORS_DELIVERY_RETENTION < 1:
    raise ImproperlyConfigured(
        "CONNECTORS_MAX_BODY_BYTES must be at least 1024, CONNECTORS_DELIVERY_RETENTION at least 1."
    )
# Deliveries beyond the retention are deleted by beat, not by the delivery that passes the cap.
CELERY_BEAT_SCHEDULE["connectors-trim-deliveries"] = {
    "task": "connectors.tasks.trim_deliveries",
    "schedule": 60.0,
    "options": {"expires": 60},
}
# The sweep opens follow-ups whose task was lost (broker down when the answer came in): answers
# from the last FOLLOWUPS_SWEEP_HOURS, older than the grace, at most FOLLOWUPS_SWEEP_LIMIT a run.
FOLLOWUPS_SWEEP_SECONDS = env.int("FOLLOWUPS_SWEEP_SECONDS", default=300)
FOLLOWUPS_SWEEP_HOURS = env.int("FOLLOWUPS_SWEEP_HOURS", default=48)
FOLLOWUPS_SWEEP_GRACE_SECONDS = env.int("FOLLOWUPS_SWEEP_GRACE_SECONDS", default=120)
FOLLOWUPS_SWEEP_LIMIT = env.int("FOLLOWUPS_SWEEP_LIMIT", default=200)
if min(FOLLOWUPS_SWEEP_SECONDS, FOLLOWUPS_SWEEP_HOURS, FOLLOWUPS_SWEEP_LIMIT) < 1:
    raise ImproperlyConfigured(
        "FOLLOWUPS_SWEEP_SECONDS, FOLLOWUPS_SWEEP_HOURS and FOLLOWUPS_SWEEP_LIMIT must be ≥ 1."
    )
CELERY_BEAT_SCHEDULE["followups-sweep"] = {
    "task": "followups.tasks.sweep_follow_ups",
    "schedule": FOLLOWUPS_SWEEP_SECONDS,
    "options": {"expires": FOLLOWUPS_SWEEP_SECONDS},  # a missed run is not worth two
}
CELERY_BEAT_SCHEDULE["followups-csat-alerts"] = {
    "task": "followups.tasks.check_csat_alerts",
    "schedule": env.int("FOLLOWUPS_ALERT_CHECK_SECONDS", default=900),
}

# --- Privacy -----------------------------------------------------------------------------------
# Personal data of responses older than this many months is erased daily (0 = keep everything).
RESPONSE_RETENTION_MONTHS = env.int("RESPONSE_RETENTION_MONTHS", default=0)
if RESPONSE_RETENTION_MONTHS < 0:
    raise ImproperlyConfigured("RESPONSE_RETENTION_MONTHS must be 0 (off) or a number of months.")
CELERY_BEAT_SCHEDULE["privacy-retention"] = {
    "task": "privacy.tasks.erase_expired_personal_data",
    "schedule": 24 * 60 * 60,
}
