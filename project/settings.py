"""Settings for Rooms, read from the environment in this one place.

The defaults are the embedded setup (docs/operations.md, Environment):
SQLite, the in-memory channel layer, DEBUG on. Production sets
DJANGO_DEBUG=0, DJANGO_SECRET_KEY, DATABASE_URL and REDIS_URL. A setting
that cannot work stops every command and server with one line naming it
(`refuse`), never a traceback.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from project import database, email_url, file_storage, logfilters
from project.env import _env_bool, _env_list, _rate_limit, _window, refuse

BASE_DIR = Path(__file__).resolve().parent.parent


DEBUG = _env_bool("DJANGO_DEBUG", "1")

_DEV_SECRET_KEY = "django-insecure-rooms-development-key-change-me-in-production-0123456789"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "").strip() or _DEV_SECRET_KEY
if SECRET_KEY == _DEV_SECRET_KEY and not DEBUG:
    # The development key is published: sessions and signed links made with
    # it can be forged by anyone.
    refuse(
        "DJANGO_SECRET_KEY is not set, and DJANGO_DEBUG is off "
        "(make one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )

ALLOWED_HOSTS = _env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    # Delayed jobs on the project's database (docs/notifications.md, The worker).
    "django_tasks",
    "django_tasks_db",
    "rooms",
    "axes",
    # The API's docs page (/api/docs): ninja's template and its bundled Swagger UI.
    "ninja",
]

MIDDLEWARE = [
    # First: every log line of the request carries its id (docs/deploy.md, Logs).
    "project.logcontext.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "project.csp.ContentSecurityPolicyMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of the request: Accept-Language (else LANGUAGE_CODE) ...
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # ... unless the signed-in person chose one (docs/ui.md, Languages).
    "rooms.web.display.UserDisplayMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: it turns a login refused by the throttle into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The project's templates ship inside the app (a built wheel carries them);
        # listed first so they override the admin's own registration pages.
        "DIRS": [BASE_DIR / "rooms" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",  # LANGUAGE_CODE for <html lang>
                "rooms.web.display.display",  # theme, the JavaScript catalog's URL
            ],
        },
    },
]

ASGI_APPLICATION = "project.asgi.application"

# --- Database --------------------------------------------------------------

# Persistent connections: Channels closes "old" connections around every
# database_sync_to_async call, so with a max age of 0 each query of a consumer
# would open a new connection. No health checks: they cost a round trip per
# call (12% of a worker's database time); a connection that broke (database
# restarted) fails one call, is then closed by Django and opened anew, and the
# client's resend with the same client_id is safe (G4).
try:
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
            conn_max_age=600,
        )
    }
except ValueError as error:  # an unknown scheme, a malformed URL
    refuse(f"DATABASE_URL is not a database URL ({str(error).split('. ')[0]}).")
if (
    DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3"
    and not (DATABASES["default"]["NAME"])
):
    refuse("DATABASE_URL names no database (postgres://USER@HOST:PORT/DATABASE).")
database.tune(
    DATABASES["default"],
    connect_timeout=int(os.environ.get("ROOMS_DB_CONNECT_TIMEOUT", "3")),
    pool_size=int(os.environ.get("ROOMS_DB_POOL", "20")),
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer ---------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    # redis-py's default 5 s socket timeout equals channels-redis's BZPOPMIN
    # timeout, so idle receives time out under load; and a bounded pool
    # throws MaxConnectionsError when many sockets close at once. Rooms holds
    # one receive per process (rooms/broadcast.py), so a roomy pool with a
    # read timeout above the blocking pop is enough.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 30,
                        "socket_connect_timeout": 5,
                        "socket_keepalive": True,
                        "health_check_interval": 15,
                        "max_connections": 1000,
                        "retry_on_timeout": True,
                    }
                ],
                "prefix": os.environ.get("ROOMS_REDIS_PREFIX", "rooms"),
                "capacity": 1000,
                "expiry": 60,
                "group_expiry": 86400,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 10000, "expiry": 60},
        }
    }

# --- Cache -------------------------------------------------------------------

# What the read budget counts in (rooms/budgets.py, ROOMS_READ_RATE): with
# REDIS_URL, Redis under a key prefix of its own, so every worker spends from
# one budget per user; without it, this process's memory (one worker).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("ROOMS_REDIS_PREFIX", "rooms") + "-cache",
            # An unreachable Redis fails the request in seconds, not hangs it.
            "OPTIONS": {"socket_connect_timeout": 5, "socket_timeout": 5},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            # Room for a counter per active user: a full cache forgets some.
            "OPTIONS": {"MAX_ENTRIES": 10000},
        }
    }

# --- Auth, i18n, static ------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"

# Login throttling (docs/security.md): django-axes counts failed logins in
# the database, so every worker agrees, with two limits within 15 minutes:
# 10 failures of one username from one address refuse that pair, and 50
# failures from one address, whatever the usernames, refuse that address;
# for 15 minutes, whatever the password (rooms.web.accounts.login_refused:
# 429 and a log line). Other addresses are not affected. axes itself knows
# one limit; rooms.login_throttle gives each parameter set its own, and
# reads AXES_LOCKOUT_PARAMETERS in this order (the pair's, the address's).
# The address is REMOTE_ADDR, which the ASGI server sets from the proxy's
# X-Forwarded-For (docs/deploy.md): never read a client-supplied header here,
# or a client could pick a new address for every guess.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "rooms.login_throttle.LoginThrottle"
AXES_FAILURE_LIMIT = 10  # of one (username, address) pair
ROOMS_LOGIN_FAILURES_PER_ADDRESS = 50  # from one address, any usernames
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
# Refused for 15 minutes from the lock, not for as long as someone keeps trying.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True  # its username's failures only, not the address's
AXES_DISABLE_ACCESS_LOG = True  # no table of every successful login
AXES_LOCKOUT_CALLABLE = "rooms.web.accounts.login_refused"
AXES_SENSITIVE_PARAMETERS = []  # log username and address; axes always masks the password
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# The pages, emails and the browser client speak the person's language: their
# setting, else the browser's Accept-Language, else LANGUAGE_CODE. Adding a
# language is adding it here and its message files under rooms/locale/
# (docs/ui.md, Languages).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
# Listed here, the app's own messages come before those of Django's apps
# for the same words (Django's admin says "Sichern" for our "Speichern").
LOCALE_PATHS = [BASE_DIR / "rooms" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "project.staticfiles.ManifestStaticFilesStorage"
    },
}
SERVESTATIC_AUTOREFRESH = DEBUG
SERVESTATIC_USE_FINDERS = DEBUG

# --- Security (production) -------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = _env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _env_bool("DJANGO_SECURE_SSL_REDIRECT", "1")
    SESSION_COOKIE_SECURE = _env_bool("DJANGO_SECURE_COOKIES", "1")
    CSRF_COOKIE_SECURE = _env_bool("DJANGO_SECURE_COOKIES", "1")
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    # Preloading is a promise to browsers that outlives this deployment: opt
    # in. Not preloading is then a choice, not a finding of `check --deploy`.
    SECURE_HSTS_PRELOAD = _env_bool("DJANGO_HSTS_PRELOAD", "0")
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    # Load balancers and Prometheus ask each worker directly, over HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Rooms -------------------------------------------------------------------

ROOMS_RATE_LIMIT = _rate_limit(os.environ.get("ROOMS_RATE_LIMIT", "20/10"))
# Rooms, direct conversations and invitations one user may start per period
# (docs/room-management.md, Limits): what one person can push onto others.
ROOMS_CREATE_RATE = _rate_limit(os.environ.get("ROOMS_CREATE_RATE", "30/3600"))
# Searches and user-picker look-ups one user may make per period, pages and
# API together (rooms/budgets.py; docs/security.md, Limits).
ROOMS_READ_RATE = _rate_limit(os.environ.get("ROOMS_READ_RATE", "120/60"))
ROOMS_MAX_BODY = int(os.environ.get("ROOMS_MAX_BODY", "4000"))
ROOMS_MAX_FRAME_BYTES = int(os.environ.get("ROOMS_MAX_FRAME_BYTES", str(64 * 1024)))
ROOMS_HISTORY_LIMIT = 200
ROOMS_BACKFILL_MAX_MESSAGES = 500
ROOMS_BACKFILL_MAX_BYTES = 256 * 1024
ROOMS_REPAIR_INTERVAL = float(os.environ.get("ROOMS_REPAIR_INTERVAL", "2"))
# Newest entries per room kept for resuming joins (realtime/window.py).
ROOMS_RESUME_WINDOW = _window(os.environ.get("ROOMS_RESUME_WINDOW", "200/131072"))
# Flow control of one socket (docs/protocol.md, Access and flow control).
ROOMS_FRAME_RATE = _rate_limit(os.environ.get("ROOMS_FRAME_RATE", "300/10"))
ROOMS_MAX_SOCKETS_PER_USER = int(os.environ.get("ROOMS_MAX_SOCKETS_PER_USER", "32"))
ROOMS_MAX_ROOMS_PER_SOCKET = int(os.environ.get("ROOMS_MAX_ROOMS_PER_SOCKET", "1000"))
ROOMS_MAX_BACKLOG = int(os.environ.get("ROOMS_MAX_BACKLOG", str(1024 * 1024)))
ROOMS_TYPING_INTERVAL = 2.0  # seconds between relayed `typing` of one user in one room
ROOMS_READ_COALESCE = 1.0  # seconds over which `read` frames of a socket coalesce
# Seconds a worker takes at most to stop on SIGTERM: it stores and acknowledges
# what it received, closes its sockets with 4503, then exits (rooms/realtime/shutdown.py).
ROOMS_SHUTDOWN_TIMEOUT = float(os.environ.get("ROOMS_SHUTDOWN_TIMEOUT", "10"))
# Whether /accounts/signup/ lets anyone make an account: on for the embedded
# default, off in production unless asked for.
ROOMS_SIGNUP = _env_bool("ROOMS_SIGNUP", "1" if DEBUG else "0")
# Who may create rooms from the room list and the API: `everyone` (the
# default) or `staff` (staff and users with the rooms.add_room permission).
ROOMS_ROOM_CREATION = os.environ.get("ROOMS_ROOM_CREATION", "everyone").strip().lower()
if ROOMS_ROOM_CREATION not in ("everyone", "staff"):
    raise ImproperlyConfigured("ROOMS_ROOM_CREATION must be `everyone` or `staff`.")
# The bearer token /metrics requires (rooms/ops/views.py); unset: no /metrics (404).
ROOMS_METRICS_TOKEN = os.environ.get("ROOMS_METRICS_TOKEN", "").strip() or None

# --- Reaching people who are away (docs/notifications.md) -----------------

# Delayed jobs live in the project's database; `manage.py worker` runs them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# EMAIL_URL: smtp://user:pass@host:port, submission://… (STARTTLS on 587),
# smtps://…; `console:` by default with DEBUG on, no email otherwise.
EMAIL_URL = os.environ.get("EMAIL_URL", "").strip() or ("console:" if DEBUG else None)
try:
    globals().update(email_url.email_settings(EMAIL_URL))  # EMAIL_BACKEND, EMAIL_HOST, …
except ValueError as error:
    refuse(f"EMAIL_URL is not an email URL ({error}).")
# A worker must not hang on a dead mail server past its 10 s to stop.
EMAIL_TIMEOUT = 5
ROOMS_EMAIL_FROM = os.environ.get("ROOMS_EMAIL_FROM", "").strip() or "rooms@localhost"
DEFAULT_FROM_EMAIL = ROOMS_EMAIL_FROM
ROOMS_BASE_URL = (os.environ.get("ROOMS_BASE_URL", "").strip() or "http://127.0.0.1:8000").rstrip(
    "/"
)
# Seconds a message may stay unread before it is emailed, and pushed.
ROOMS_NOTIFY_EMAIL_DELAY = float(os.environ.get("ROOMS_NOTIFY_EMAIL_DELAY", "120"))
ROOMS_NOTIFY_PUSH_DELAY = float(os.environ.get("ROOMS_NOTIFY_PUSH_DELAY", "10"))
# Web Push: unset, none (`manage.py vapidkeys` prints a new key).
ROOMS_VAPID_PRIVATE_KEY = os.environ.get("ROOMS_VAPID_PRIVATE_KEY", "").strip() or None
ROOMS_VAPID_SUBJECT = (
    os.environ.get("ROOMS_VAPID_SUBJECT", "").strip() or f"mailto:{ROOMS_EMAIL_FROM}"
)

# --- Attachments (docs/attachments.md) ---------------------------------------

# The largest file one upload may carry, in bytes (413 past it, refused on
# the Content-Length before the body is read: rooms/files/uploads.py).
ROOMS_MAX_UPLOAD_BYTES = int(os.environ.get("ROOMS_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
# Uploads one user may make per period (seconds), like ROOMS_CREATE_RATE.
ROOMS_UPLOAD_RATE = _rate_limit(os.environ.get("ROOMS_UPLOAD_RATE", "60/3600"))
# Files on the filesystem: media/ beside the SQLite database (or the checkout).
_DB = DATABASES["default"]
_BESIDE = Path(_DB["NAME"]).parent if _DB["ENGINE"].endswith("sqlite3") else BASE_DIR
ROOMS_MEDIA_ROOT = os.environ.get("ROOMS_MEDIA_ROOT", "").strip() or str(_BESIDE / "media")
# Or a bucket; its credentials and region are boto3's usual AWS_* variables.
ROOMS_S3_BUCKET = os.environ.get("ROOMS_S3_BUCKET", "").strip() or None
ROOMS_S3_ENDPOINT_URL = os.environ.get("ROOMS_S3_ENDPOINT_URL", "").strip() or None
ROOMS_S3_URL_EXPIRY = 300  # seconds a presigned address of a file stays good
STORAGES["attachments"] = file_storage.attachments_storage(
    bucket=ROOMS_S3_BUCKET,
    endpoint_url=ROOMS_S3_ENDPOINT_URL,
    media_root=ROOMS_MEDIA_ROOT,
    url_expiry=ROOMS_S3_URL_EXPIRY,
)
# Behind nginx: its `internal` location serving ROOMS_MEDIA_ROOT
# (deploy/nginx.conf); workers authorize and answer with X-Accel-Redirect.
ROOMS_ACCEL_REDIRECT = os.environ.get("ROOMS_ACCEL_REDIRECT", "").strip() or None

# --- Logs --------------------------------------------------------------------

# `plain` (default): one readable line per record; `json`: one JSON object per
# line, with the request id, socket, user and room where they apply
# (project/logfilters.py, JsonLines; docs/deploy.md, Logs).
ROOMS_LOG_FORMAT = os.environ.get("ROOMS_LOG_FORMAT", "plain").strip().lower()
if ROOMS_LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("ROOMS_LOG_FORMAT must be `plain` or `json`.")

LOGGING = logfilters.logging_config(
    line_format=ROOMS_LOG_FORMAT, rooms_level=os.environ.get("ROOMS_LOG_LEVEL", "INFO")
)
