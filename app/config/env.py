"""Reading settings from the environment: small parsers whose errors name the bad value."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})

SQLITE_SCHEMES = frozenset({"sqlite"})
POSTGRES_SCHEMES = frozenset({"postgres", "postgresql", "pgsql"})


def env_str(name: str, default: str) -> str:
    """The variable's value, or the default when it is unset or empty."""
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool) -> bool:
    """A true/false variable; anything other than the known words is an error."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in TRUE_WORDS:
        return True
    if raw in FALSE_WORDS:
        return False
    valid = ", ".join(sorted(TRUE_WORDS | FALSE_WORDS))
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use one of: {valid}")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    """A whole-number variable of at least `minimum`."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}")
    return value


def env_float(name: str, default: float, minimum: float = 0) -> float:
    """A finite decimal-number variable of at least `minimum`."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return float(default)
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from None
    if not math.isfinite(value):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a finite number")
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value:g} is below the minimum of {minimum:g}")
    return value


def env_choice(name: str, default: str, choices: Iterable[str]) -> str:
    """One word of `choices` (blanks around it and letter case ignored)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    valid = tuple(choices)
    if raw.lower() not in valid:
        raise ImproperlyConfigured(f"{name}={raw!r} is not allowed; use one of: {', '.join(valid)}")
    return raw.lower()


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated variable; blanks around and between items are dropped."""
    raw = os.environ.get(name, "")
    items = [item.strip() for item in raw.split(",") if item.strip()]
    return items or list(default)


def parse_database_url(url: str) -> dict[str, Any]:
    """Turn `sqlite:///abs/path` or `postgres://user:pass@host:port/name` into a DATABASES entry.

    Query parameters of a PostgreSQL URL (e.g. `?sslmode=require`) become OPTIONS. The error
    for a bad URL names its scheme, never the whole URL: it may hold a password.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in SQLITE_SCHEMES:
        # sqlite:///abs/path and sqlite:////abs/path both mean /abs/path.
        path = "/" + parts.path.lstrip("/")
        name = ":memory:" if path in {"/", "/:memory:"} else str(Path(unquote(path)))
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": name}
    if scheme in POSTGRES_SCHEMES:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(
                f"DATABASE_URL with scheme {scheme!r} has no database name; "
                "expected postgres://user:password@host:port/name"
            )
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(
                f"DATABASE_URL with scheme {scheme!r} has a port that is not a number"
            ) from None
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "OPTIONS": dict(parse_qsl(parts.query)),
        }
    valid = ", ".join(f"{known}://" for known in sorted(SQLITE_SCHEMES | POSTGRES_SCHEMES))
    raise ImproperlyConfigured(
        f"DATABASE_URL has the unsupported scheme {parts.scheme!r}; use one of: {valid}"
    )
