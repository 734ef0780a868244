"""Settings from the environment, checked in fresh interpreters with a clean environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from config.env import parse_database_url
from tests.conftest import APP_DIR

PRINT_SETTINGS = """
import json
from django.conf import settings
database = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "ENGINE": database["ENGINE"],
    "NAME": str(database["NAME"]),
    "CONN_MAX_AGE": database["CONN_MAX_AGE"],
    "CONN_HEALTH_CHECKS": database["CONN_HEALTH_CHECKS"],
    "OPTIONS": database.get("OPTIONS", {}),
    "REDIS_URL": settings.REDIS_URL,
    "STATIC_ROOT": str(settings.STATIC_ROOT),
    "MIDDLEWARE": settings.MIDDLEWARE,
    "APP_SERVER_NAME": settings.APP_SERVER_NAME,
    "APP_RELEASE": settings.APP_RELEASE,
    "SLOW_ENDPOINT_MAX_SECONDS": settings.SLOW_ENDPOINT_MAX_SECONDS,
}))
"""


def run_python(code: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """Run code with only PATH and the given variables set, as a fresh service would."""
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=APP_DIR,
        env={**clean, **environment},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_secret_key_with_debug_off_fails_with_a_clear_message():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=APP_DIR,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert (
        "django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY is not set; "
        "it is required when DJANGO_DEBUG is off." in result.stderr
    )


def test_defaults():
    result = run_python(PRINT_SETTINGS, DJANGO_SECRET_KEY="s3cret")
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded == {
        "DEBUG": False,
        "ALLOWED_HOSTS": ["localhost", "127.0.0.1", "[::1]"],
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(APP_DIR / "db.sqlite3"),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
            "transaction_mode": "IMMEDIATE",
        },
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "STATIC_ROOT": str(APP_DIR / "staticfiles"),
        "MIDDLEWARE": [
            "config.middleware.ResponseHeadersMiddleware",
            "config.middleware.AllowedHostsMiddleware",
            "config.middleware.StaticFilesMiddleware",
        ],
        "APP_SERVER_NAME": "",
        "APP_RELEASE": "",
        "SLOW_ENDPOINT_MAX_SECONDS": 0.0,
    }


def test_everything_from_the_environment():
    result = run_python(
        PRINT_SETTINGS,
        DJANGO_DEBUG="true",  # no secret key needed then
        DJANGO_ALLOWED_HOSTS=" lab1.example , 10.0.0.5,,",
        DATABASE_URL="postgres://lab:p%40ss@db.internal:5433/lab?sslmode=require",
        DJANGO_CONN_MAX_AGE="0",
        REDIS_URL="redis://:secret@127.0.0.1:6380/1",
        DJANGO_STATIC_ROOT="/srv/lab/static",
        DJANGO_SERVE_STATIC="false",
        APP_SERVER_NAME="granian",
        APP_RELEASE=" 0123456789ab ",
        DJANGO_SLOW_ENDPOINT_MAX_SECONDS="7.5",
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["DEBUG"] is True
    assert loaded["ALLOWED_HOSTS"] == ["lab1.example", "10.0.0.5"]
    assert loaded["ENGINE"] == "django.db.backends.postgresql"
    assert loaded["NAME"] == "lab"
    assert loaded["OPTIONS"] == {"sslmode": "require", "connect_timeout": 10}
    assert loaded["CONN_MAX_AGE"] == 0
    assert loaded["REDIS_URL"] == "redis://:secret@127.0.0.1:6380/1"
    assert loaded["STATIC_ROOT"] == "/srv/lab/static"
    assert "config.middleware.StaticFilesMiddleware" not in loaded["MIDDLEWARE"]
    assert loaded["APP_SERVER_NAME"] == "granian"
    assert loaded["APP_RELEASE"] == "0123456789ab"
    assert loaded["SLOW_ENDPOINT_MAX_SECONDS"] == 7.5


def test_a_postgres_url_sets_its_own_connect_timeout():
    result = run_python(
        PRINT_SETTINGS,
        DJANGO_SECRET_KEY="s3cret",
        DATABASE_URL="postgres://lab:secret@db:5432/lab?connect_timeout=3",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["OPTIONS"] == {"connect_timeout": "3"}


def test_asgi_module_turns_persistent_connections_off():
    code = "import config.asgi; " + PRINT_SETTINGS
    off = run_python(code, DJANGO_SECRET_KEY="s3cret", DJANGO_CONN_MAX_AGE="60")
    assert off.returncode == 0, off.stderr
    assert json.loads(off.stdout)["CONN_MAX_AGE"] == 0
    chosen = run_python(code, DJANGO_SECRET_KEY="s3cret", DJANGO_ASGI_CONN_MAX_AGE="30")
    assert chosen.returncode == 0, chosen.stderr
    assert json.loads(chosen.stdout)["CONN_MAX_AGE"] == 30


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG='maybe' is not a boolean; use one of: 0, 1,"),
        ("DJANGO_CONN_MAX_AGE", "soon", "DJANGO_CONN_MAX_AGE='soon' is not a whole number"),
        ("DJANGO_CONN_MAX_AGE", "-1", "DJANGO_CONN_MAX_AGE=-1 is below the minimum of 0"),
        ("DATABASE_URL", "mysql://u:hunter2@h/db", "unsupported scheme 'mysql'; use one of:"),
        ("DJANGO_LOG_LEVEL", "LOUD", "DJANGO_LOG_LEVEL='LOUD' is not a log level"),
        (
            "DJANGO_SLOW_ENDPOINT_MAX_SECONDS",
            "soon",
            "DJANGO_SLOW_ENDPOINT_MAX_SECONDS='soon' is not a number",
        ),
        (
            "DJANGO_SLOW_ENDPOINT_MAX_SECONDS",
            "inf",
            "DJANGO_SLOW_ENDPOINT_MAX_SECONDS='inf' is not a finite number",
        ),
        (
            "DJANGO_SLOW_ENDPOINT_MAX_SECONDS",
            "-0.5",
            "DJANGO_SLOW_ENDPOINT_MAX_SECONDS=-0.5 is below the minimum of 0",
        ),
        ("APP_RELEASE", "r 1", "APP_RELEASE='r 1' is not a header value; use printable ASCII"),
        ("APP_RELEASE", "r\u00e9", "APP_RELEASE='r\u00e9' is not a header value"),
    ],
)
def test_bad_values_are_named(variable: str, value: str, message: str):
    result = run_python(PRINT_SETTINGS, DJANGO_SECRET_KEY="s3cret", **{variable: value})
    assert result.returncode != 0
    assert message in result.stderr
    assert "hunter2" not in result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///srv/lab/db.sqlite3", {"NAME": "/srv/lab/db.sqlite3"}),
        ("sqlite:////srv/lab/db.sqlite3", {"NAME": "/srv/lab/db.sqlite3"}),
        ("sqlite:///:memory:", {"NAME": ":memory:"}),
        (
            "postgres://lab:p%40ss%3Aw@db:5432/labdb",
            {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "labdb",
                "USER": "lab",
                "PASSWORD": "p@ss:w",
                "HOST": "db",
                "PORT": "5432",
                "OPTIONS": {},
            },
        ),
        ("postgresql://db/labdb", {"HOST": "db", "PORT": "", "USER": "", "PASSWORD": ""}),
    ],
)
def test_parse_database_url(url: str, expected: dict):
    parsed = parse_database_url(url)
    assert {key: parsed[key] for key in expected} == expected


def test_parse_database_url_needs_a_database_name():
    with pytest.raises(ImproperlyConfigured, match="has no database name"):
        parse_database_url("postgres://lab:secret@db:5432/")


def test_unknown_host_gets_400_with_the_server_header():
    response = Client(HTTP_HOST="evil.example").get("/api/health")
    assert response.status_code == 400
    assert response["X-App-Server"] == "pytest"


def test_no_server_header_without_a_server_name(settings):
    settings.APP_SERVER_NAME = ""
    response = Client().get("/api/health")
    assert response.status_code == 200
    assert "X-App-Server" not in response
    assert response["X-Content-Type-Options"] == "nosniff"
