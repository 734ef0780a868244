"""The app profiles (DSL_APP_PROFILE): lean is the app as it always was; study adds the
sessions, CSRF, auth and messages of the DjangoStarter-like project the published study measured.

Settings are read once per process, so every profile runs in processes of its own, as in
test_settings.py and test_servers.py: a fresh Python with Django's test client (to see the
request and the template context), manage.py's migrate and seed, and the app under a real WSGI
server (Gunicorn) and a real ASGI server (Hypercorn).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.redis_server import free_port
from tests.test_servers import (
    Reply,
    get,
    gunicorn_command,
    hypercorn_command,
    manage,
    running,
    server_environment,
)
from tests.test_settings import run_python

SECRET_KEY = "tests-only-secret-key-not-for-deployment"
PROFILES = ("lean", "study")

APP_MIDDLEWARE = [
    "config.middleware.ResponseHeadersMiddleware",
    "config.middleware.AllowedHostsMiddleware",
]
STATIC_FILES = "config.middleware.StaticFilesMiddleware"
STUDY_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
]
# Django's default stack in the order its docs give, WhiteNoise right after SecurityMiddleware.
STUDY_MIDDLEWARE = [
    *APP_MIDDLEWARE,
    "django.middleware.security.SecurityMiddleware",
    STATIC_FILES,
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
STUDY_TABLES = {"django_session", "auth_user", "auth_group", "django_content_type"}

# The JSON bodies' keys, the same under both profiles.
LIVENESS_KEYS = {"status", "status_code", "release", "pid"}
HEALTH_KEYS = {"status", "status_code", "checks", "system", "release", "pid"}
MOVIE_PAGE_KEYS = {"count", "limit", "offset", "items"}
MOVIE_KEYS = {"id", "title", "year", "rating", "genre", "director", "runtime_minutes"}

PRINT_PROFILE = """
import json
from django.conf import settings
print(json.dumps({
    "APP_PROFILE": settings.APP_PROFILE,
    "INSTALLED_APPS": settings.INSTALLED_APPS,
    "MIDDLEWARE": settings.MIDDLEWARE,
    "CONTEXT_PROCESSORS": settings.TEMPLATES[0]["OPTIONS"]["context_processors"],
}))
"""

# Migrates a fresh database, then makes requests through Django's test client (its WSGI handler,
# and the ASGI one for the async views) and prints what the request and the page's context held.
CLIENT_FACTS = """
import asyncio
import io
import json

import django
from django.core.management import call_command
from django.test import AsyncClient, Client
from django.test.utils import setup_test_environment

django.setup()
setup_test_environment()
call_command("migrate", interactive=False, verbosity=0)
call_command("seed_movies", count=3, stdout=io.StringIO())

client = Client(enforce_csrf_checks=True)
index = client.get("/")
request = index.wsgi_request
health = client.get("/api/health")
health_sync = client.get("/api/health/sync")
movies = client.get("/api/demo/movies?limit=2")
health_async = asyncio.run(AsyncClient().get("/api/health/async"))
print(json.dumps({
    "index": index.status_code,
    "context": sorted(
        name for name in ("request", "user", "messages", "csrf_token") if name in index.context
    ),
    "csrf_cookie": "csrftoken" in index.cookies,
    "x_frame_options": index.get("X-Frame-Options"),
    "request_has_session": hasattr(request, "session"),
    "request_user_is_anonymous": request.user.is_anonymous if hasattr(request, "user") else None,
    "async_request_has_session": hasattr(health_async.asgi_request, "session"),
    "post_without_token": client.post("/").status_code,
    "health": [health.status_code, sorted(health.json())],
    "health_sync": [health_sync.status_code, health_sync.json()["checks"]],
    "health_async": [health_async.status_code, sorted(health_async.json())],
    "movies": [movies.status_code, sorted(movies.json()), sorted(movies.json()["items"][0])],
}))
"""


def load_profile(**environment: str) -> dict:
    result = run_python(PRINT_PROFILE, DJANGO_SECRET_KEY=SECRET_KEY, **environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_lean_is_the_default_and_todays_app():
    loaded = load_profile()
    assert loaded == {
        "APP_PROFILE": "lean",
        "INSTALLED_APPS": ["django.contrib.staticfiles", "demo"],
        "MIDDLEWARE": [*APP_MIDDLEWARE, STATIC_FILES],
        "CONTEXT_PROCESSORS": [],
    }
    assert load_profile(DSL_APP_PROFILE="lean") == loaded
    assert load_profile(DSL_APP_PROFILE="lean", DJANGO_SERVE_STATIC="false")["MIDDLEWARE"] == (
        APP_MIDDLEWARE
    )


def test_study_adds_the_projects_apps_middleware_and_context():
    loaded = load_profile(DSL_APP_PROFILE="study")
    assert loaded == {
        "APP_PROFILE": "study",
        "INSTALLED_APPS": [*STUDY_APPS, "django.contrib.staticfiles", "demo"],
        "MIDDLEWARE": STUDY_MIDDLEWARE,
        "CONTEXT_PROCESSORS": [
            "django.template.context_processors.request",
            "django.contrib.auth.context_processors.auth",
            "django.contrib.messages.context_processors.messages",
        ],
    }
    without_static = load_profile(DSL_APP_PROFILE="study", DJANGO_SERVE_STATIC="false")
    assert without_static["MIDDLEWARE"] == [m for m in STUDY_MIDDLEWARE if m != STATIC_FILES]


def test_profile_is_read_like_the_other_variables():
    assert load_profile(DSL_APP_PROFILE=" Study ")["APP_PROFILE"] == "study"
    assert load_profile(DSL_APP_PROFILE="  ")["APP_PROFILE"] == "lean"


@pytest.mark.parametrize("value", ["fast", "starter", "lean,study"])
def test_bad_profile_stops_the_app_at_start_naming_it(value: str):
    result = run_python(
        "import django; django.setup()", DJANGO_SECRET_KEY=SECRET_KEY, DSL_APP_PROFILE=value
    )
    assert result.returncode != 0
    assert (
        f"django.core.exceptions.ImproperlyConfigured: DSL_APP_PROFILE={value!r} is not "
        "allowed; use one of: lean, study"
    ) in result.stderr


def client_facts(tmp_path: Path, redis_url: str, profile: str) -> dict:
    result = run_python(
        CLIENT_FACTS,
        DJANGO_SECRET_KEY=SECRET_KEY,
        DSL_APP_PROFILE=profile,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL=redis_url,
        DJANGO_SERVE_STATIC="false",
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_same_json(facts: dict) -> None:
    """The JSON endpoints answer as under either profile."""
    assert facts["health"] == [200, sorted(LIVENESS_KEYS)]
    assert facts["health_sync"] == [200, {"database": "ok", "redis": "ok"}]
    assert facts["health_async"] == [200, sorted(HEALTH_KEYS)]
    assert facts["movies"] == [200, sorted(MOVIE_PAGE_KEYS), sorted(MOVIE_KEYS)]


def test_study_runs_sessions_csrf_auth_and_messages(tmp_path: Path, redis_url: str):
    facts = client_facts(tmp_path, redis_url, "study")
    assert facts["index"] == 200
    assert facts["context"] == ["csrf_token", "messages", "request", "user"]
    assert facts["csrf_cookie"] is True
    assert facts["x_frame_options"] == "DENY"
    assert facts["request_has_session"] is True
    assert facts["request_user_is_anonymous"] is True
    assert facts["async_request_has_session"] is True
    assert facts["post_without_token"] == 403
    assert_same_json(facts)


def test_lean_runs_none_of_that_middleware(tmp_path: Path, redis_url: str):
    facts = client_facts(tmp_path, redis_url, "lean")
    assert facts["index"] == 200
    # csrf_token is in every RequestContext (Django's built-in processor), but lazily: nothing
    # makes a token or sets a cookie without the middleware.
    assert facts["context"] == ["csrf_token"]
    assert facts["csrf_cookie"] is False
    assert facts["x_frame_options"] is None
    assert facts["request_has_session"] is False
    assert facts["request_user_is_anonymous"] is None
    assert facts["async_request_has_session"] is False
    assert facts["post_without_token"] == 200
    assert_same_json(facts)


def tables(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def test_migrate_makes_the_study_tables_when_the_profile_switches(tmp_path: Path, redis_url: str):
    """As a deploy that switches lean -> study on a host does: migrate, seed, under each."""
    database = tmp_path / "db.sqlite3"
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{database}",
        "REDIS_URL": redis_url,
    }
    for profile in PROFILES:
        manage({**environment, "DSL_APP_PROFILE": profile}, "migrate", "--noinput")
        seeded = manage({**environment, "DSL_APP_PROFILE": profile}, "seed_movies", "--count", "4")
        if profile == "lean":
            assert "demo_movie" in tables(database)
            assert not STUDY_TABLES & tables(database)
            assert seeded.splitlines()[-1].startswith("seed_movies: changed (created 4,")
        else:
            assert tables(database) >= STUDY_TABLES
            assert seeded.splitlines()[-1] == "seed_movies: unchanged (4 rows)"
    # Back to lean: the study's tables stay, unused; nothing is left to migrate either way.
    for profile in PROFILES:
        applied = manage({**environment, "DSL_APP_PROFILE": profile}, "migrate", "--noinput")
        assert "No migrations to apply." in applied


# --- The app under real servers ---------------------------------------------------------------


def post(url: str, data: dict[str, str], headers: dict[str, str] | None = None) -> Reply:
    body = urllib.parse.urlencode(data).encode()
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.headers, error.read())


@pytest.fixture(scope="module", params=PROFILES)
def profile_release(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, redis_url: str
) -> dict[str, str]:
    """A database and STATIC_ROOT prepared under the profile, as the deploy prepares a release."""
    root = tmp_path_factory.mktemp(f"release-{request.param}")
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(root / "staticfiles"),
        "REDIS_URL": redis_url,
        "DSL_APP_PROFILE": request.param,
    }
    manage(environment, "migrate", "--noinput")
    manage(environment, "seed_movies", "--count", "5")
    manage(environment, "collectstatic", "--noinput")
    return environment


SERVERS = {
    "gunicorn": (gunicorn_command, "/api/health/sync"),
    "hypercorn": (hypercorn_command, "/api/health/async"),
}


def assert_same_json_over_http(base_url: str, health_path: str) -> None:
    liveness = get(f"{base_url}/api/health")
    assert (liveness.status, set(liveness.json())) == (200, LIVENESS_KEYS)
    health = get(f"{base_url}{health_path}")
    assert (health.status, set(health.json())) == (200, HEALTH_KEYS)
    assert health.json()["checks"] == {"database": "ok", "redis": "ok"}
    movies = get(f"{base_url}/api/demo/movies?limit=2")
    assert (movies.status, set(movies.json())) == (200, MOVIE_PAGE_KEYS)
    assert [set(item) for item in movies.json()["items"]] == [MOVIE_KEYS, MOVIE_KEYS]
    assert get(f"{base_url}/static/css/site.css").status == 200


def assert_lean_page(base_url: str) -> None:
    """No session, CSRF or clickjacking middleware: no cookie, and a POST renders the page."""
    index = get(f"{base_url}/")
    assert index.status == 200
    assert index.headers.get_all("Set-Cookie") is None
    assert "X-Frame-Options" not in index.headers
    assert b"csrfmiddlewaretoken" not in index.body
    assert post(f"{base_url}/", {}).status == 200


def assert_study_page(base_url: str) -> None:
    """The page sets the CSRF cookie; a POST needs the page's token and that cookie."""
    index = get(f"{base_url}/")
    assert index.status == 200
    cookie = index.headers["Set-Cookie"]
    assert cookie.startswith("csrftoken=")
    assert index.headers["X-Frame-Options"] == "DENY"
    assert post(f"{base_url}/", {}).status == 403
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', index.body)
    assert match is not None
    accepted = post(
        f"{base_url}/",
        {"csrfmiddlewaretoken": match[1].decode()},
        headers={"Cookie": cookie.split(";", 1)[0]},
    )
    assert accepted.status == 200


@pytest.mark.parametrize("server_name", sorted(SERVERS))
def test_profile_under_real_servers(profile_release: dict[str, str], server_name: str):
    """WSGI (Gunicorn) and ASGI (Hypercorn, through config.asgi) entry points, both profiles."""
    make_command, health_path = SERVERS[server_name]
    port = free_port()
    environment = server_environment(profile_release, server_name)
    with running(make_command(port), environment, port) as server:
        assert_same_json_over_http(server.url, health_path)
        if profile_release["DSL_APP_PROFILE"] == "study":
            assert_study_page(server.url)
        else:
            assert_lean_page(server.url)
