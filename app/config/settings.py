"""Settings of the lab app, all read from the environment (see README.md for the table)."""

import re
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_str,
    parse_database_url,
)
from config.profiles import APP_PROFILES

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set; it is required when DJANGO_DEBUG is off. "
            "Set DJANGO_SECRET_KEY to a long random string, or DJANGO_DEBUG=true for local "
            "development only."
        )
    SECRET_KEY = "django-insecure-debug-only-key-never-used-with-debug-off"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

# Name of the app server in front of this process; sent back as X-App-Server when set.
APP_SERVER_NAME = env_str("APP_SERVER_NAME", "")

# The release this process runs (the unit sets the id of releases/<id>). Health answers carry it
# with the pid, and X-App-Release on every response, so a deploy that starts the new release
# beside the old one on the same port can tell which release answered.
APP_RELEASE = env_str("APP_RELEASE", "")
if not re.fullmatch(r"[!-~]*", APP_RELEASE):
    raise ImproperlyConfigured(
        f"APP_RELEASE={APP_RELEASE!r} is not a header value; use printable ASCII without spaces, "
        "such as the release directory's name"
    )

# GET /api/slow?seconds=S sleeps up to this many seconds, so a deploy test can keep a request in
# flight while a server stops. 0, the default, turns the endpoint off: it answers 404.
SLOW_ENDPOINT_MAX_SECONDS = env_float("DJANGO_SLOW_ENDPOINT_MAX_SECONDS", 0)

SERVE_STATIC = env_bool("DJANGO_SERVE_STATIC", default=True)

# The apps, middleware and template context (config/profiles.py): lean, the lab's own minimum
# (the default), or study, those of the DjangoStarter-like project the published study measured.
APP_PROFILE = env_choice("DSL_APP_PROFILE", "lean", APP_PROFILES)
_profile = APP_PROFILES[APP_PROFILE](SERVE_STATIC)
INSTALLED_APPS = _profile.installed_apps
MIDDLEWARE = _profile.middleware

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": _profile.context_processors},
    },
]

DATABASES = {
    "default": parse_database_url(env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))
}
# Persistent connections, checked before reuse. config.asgi sets this to 0 for ASGI servers
# (DJANGO_ASGI_CONN_MAX_AGE), where Django runs each request's sync code in a fresh thread.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DJANGO_CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # Wait up to 20 s for a lock instead of failing with "database is locked".
        "timeout": 20,
        # WAL lets many worker processes read while one writes.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        # Take the write lock at BEGIN, so a transaction never fails upgrading read to write.
        "transaction_mode": "IMMEDIATE",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg 3 (requirements.txt). An unreachable server fails a connection after 10 s rather
    # than the kernel's TCP timeout (minutes), so requests and health checks answer; a
    # ?connect_timeout= in the URL wins.
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 10)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
# Redis connections per pool (one pool per process, one per event loop for async views);
# requests beyond it wait for a free connection. Redis itself accepts 10,000 clients.
REDIS_MAX_CONNECTIONS = env_int("REDIS_MAX_CONNECTIONS", 50, minimum=1)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Writes a .gz beside each file, which WhiteNoise (and Caddy's precompressed) can send.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_MAX_AGE = 86400

# django-ninja: the movie list's page size; the API validates limit against the maximum.
NINJA_PAGINATION_PER_PAGE = 20
NINJA_PAGINATION_MAX_LIMIT = 100

# Everything goes to stderr, where journald picks it up; no log files.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_LEVEL = env_str("DJANGO_LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in LOG_LEVELS:
    raise ImproperlyConfigured(
        f"DJANGO_LOG_LEVEL={LOG_LEVEL!r} is not a log level; use one of: {', '.join(LOG_LEVELS)}"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    # Replaces Django's own "django" logger setup, which would print twice with DEBUG on.
    "loggers": {"django": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False}},
}
