"""App profiles: the Django apps, middleware and template context a process runs with.

DSL_APP_PROFILE picks one (config/settings.py):

- ``lean``, the default: the lab's own app and nothing else. No sessions, CSRF, auth or
  messages, and only middleware that is async-capable, so under ASGI a request never hops to a
  thread just to pass through the stack.
- ``study``: what the DjangoStarter-like project of the published study runs on every request:
  django.contrib.auth, contenttypes, sessions (in the database, Django's default backend) and
  messages, Django's default middleware stack in its documented order, and the request, auth and
  messages context processors. Numbers taken under it compare like for like with the study's.

Both keep the app's own middleware: the response headers first, so error responses made
further in carry them, and WhiteNoise where its docs put it (right after SecurityMiddleware,
when there is one), so static files skip the rest of the stack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

RESPONSE_HEADERS = "config.middleware.ResponseHeadersMiddleware"
ALLOWED_HOSTS = "config.middleware.AllowedHostsMiddleware"
STATIC_FILES = "config.middleware.StaticFilesMiddleware"


@dataclass(frozen=True)
class AppProfile:
    installed_apps: list[str]
    middleware: list[str]
    context_processors: list[str]


def lean(serve_static: bool) -> AppProfile:
    return AppProfile(
        installed_apps=["django.contrib.staticfiles", "demo"],
        middleware=[RESPONSE_HEADERS, ALLOWED_HOSTS, *([STATIC_FILES] if serve_static else [])],
        context_processors=[],
    )


def study(serve_static: bool) -> AppProfile:
    return AppProfile(
        installed_apps=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "django.contrib.staticfiles",
            "demo",
        ],
        middleware=[
            RESPONSE_HEADERS,
            ALLOWED_HOSTS,
            "django.middleware.security.SecurityMiddleware",
            *([STATIC_FILES] if serve_static else []),
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
        ],
        # As startproject writes them, less debug: the lean profile has no debug processor.
        context_processors=[
            "django.template.context_processors.request",
            "django.contrib.auth.context_processors.auth",
            "django.contrib.messages.context_processors.messages",
        ],
    )


# DSL_APP_PROFILE's values, the default first.
APP_PROFILES: dict[str, Callable[[bool], AppProfile]] = {"lean": lean, "study": study}
