"""``python -m benchreport ceiling``: what the app itself costs per request, with no server and no
client, so the report can say how close each server gets to it.

Runs on the target, in a Python that imports the deployed app (the benchmark role runs it from
a venv that sees the app's venv, in the app's directory, with the app's environment and user).
Each endpoint's path is answered by Django's own WSGI handler, called in-process exactly as a
WSGI server would call it, one request after the other on one thread: the process CPU time per
request is the app's cost on one core (the Redis round trips of the health checks included, as
they are in a served request; their waiting is not CPU and is not counted).

Output (ceiling.json, benchreport/SCHEMA.md):
    {"format": "ceiling/1", "app_profile": "lean", "python": "3.11.2", "cpus": 2,
     "endpoints": {"health": {"path": "/api/health", "requests": 20000, "cpu_s": 1.68,
                              "cpu_us_per_request": 84.0, "rps_per_core": 11904.8}}}

Exit codes: 0 written; 2 bad arguments, or an endpoint that does not answer 200.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

FORMAT = "ceiling/1"
# Unmeasured calls first: imports, caches, the Redis pool's connections.
WARMUP_REQUESTS = 200
# Requests are timed in batches so that the clock is read rarely.
BATCH = 100

StartResponse = Callable[..., Any]
ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | None
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class CeilingError(Exception):
    pass


def parse_endpoint(text: str) -> tuple[str, str]:
    """argparse type of --endpoint: NAME=/path?query."""
    name, sep, path = text.partition("=")
    if not sep or not name or not path.startswith("/"):
        raise argparse.ArgumentTypeError(f"expected NAME=/path, got {text!r}")
    return name, path


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def wsgi_environ(path: str, host: str) -> dict[str, Any]:
    """The environ a WSGI server builds for ``GET path`` from a client on loopback."""
    parts = urlsplit(path)
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": parts.path,
        "QUERY_STRING": parts.query,
        "SERVER_NAME": host,
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": host,
        "HTTP_ACCEPT": "*/*",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def call(app: WsgiApp, path: str, host: str) -> str:
    """One request through the app; returns its status line."""
    status: list[str] = []

    def start_response(line: str, headers: list[tuple[str, str]], exc_info: ExcInfo = None) -> None:
        status.append(line)

    body = app(wsgi_environ(path, host), start_response)
    try:
        for _ in body:
            pass
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    return status[0] if status else ""


def measure(app: WsgiApp, path: str, host: str, seconds: float) -> dict[str, float | int | str]:
    """Answer ``path`` for ``seconds`` of CPU time; the CPU cost of one request."""
    for _ in range(WARMUP_REQUESTS):
        status = call(app, path, host)
        if not status.startswith("200"):
            raise CeilingError(f"{path} answered {status!r}, not 200")
    requests = 0
    started = time.process_time()
    while True:
        for _ in range(BATCH):
            call(app, path, host)
        requests += BATCH
        cpu_s = time.process_time() - started
        if cpu_s >= seconds:
            break
    cpu_us = cpu_s * 1e6 / requests
    return {
        "path": path,
        "requests": requests,
        "cpu_s": round(cpu_s, 4),
        "cpu_us_per_request": round(cpu_us, 2),
        "rps_per_core": round(1e6 / cpu_us, 1),
    }


def django_app() -> tuple[WsgiApp, str, str]:
    """The deployed app's WSGI handler, its settings module (DJANGO_SETTINGS_MODULE, else
    config.settings) and its profile (APP_PROFILE, lean when the app has none). Django is
    imported here, not at the top: the package's other commands run on the controller, where
    the app's Django is not installed."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    try:
        import django  # noqa: PLC0415
        from django.conf import settings  # noqa: PLC0415
        from django.core.handlers.wsgi import WSGIHandler  # noqa: PLC0415
    except ImportError as error:
        message = f"Django is not importable here ({error}): run it in the app's Python"
        raise CeilingError(message) from error
    django.setup(set_prefix=False)
    return WSGIHandler(), settings.SETTINGS_MODULE, getattr(settings, "APP_PROFILE", "lean")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchreport ceiling",
        description="The app's own CPU cost per request, in-process: no server, no client.",
    )
    parser.add_argument(
        "--endpoint",
        type=parse_endpoint,
        action="append",
        required=True,
        help="NAME=/path to measure (repeat), e.g. health=/api/health",
    )
    parser.add_argument(
        "--seconds", type=positive_float, default=2.0, help="CPU seconds per endpoint (2)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="the Host header (127.0.0.1)")
    parser.add_argument("--output", help="file to write (default: standard output)")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        app, settings_module, profile = django_app()
        endpoints = {
            name: measure(app, path, args.host, args.seconds) for name, path in args.endpoint
        }
    except CeilingError as error:
        print(f"benchreport ceiling: error: {error}", file=sys.stderr)
        return 2
    document = {
        "format": FORMAT,
        "app_profile": profile,
        "python": platform.python_version(),
        "django_settings": settings_module,
        "cpus": os.cpu_count(),
        "endpoints": endpoints,
    }
    text = json.dumps(document, indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    for name, figures in endpoints.items():
        print(
            f"{name}: {figures['cpu_us_per_request']} us of CPU per request, "
            f"{figures['rps_per_core']} req/s per core",
            file=sys.stderr,
        )
    return 0
