"""The README's steps for real: migrate, seed, collectstatic, then the app under real servers.

Gunicorn, Granian and Hypercorn come from requirements-dev.txt; each test starts one on a free
loopback port with a fresh environment, as a systemd unit would, and stops it afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest

from tests.conftest import APP_DIR
from tests.redis_server import free_port
from tests.websocket_client import OPCODE_BINARY, OPCODE_CLOSE, OPCODE_TEXT, WebSocketClient

VENV_BIN = Path(sys.executable).parent
START_TIMEOUT_SECONDS = 30.0
# The release id each server runs as, as the unit sets it.
RELEASE = "0123456789ab"
# /api/slow is on under these servers, bounded by this; the stop test keeps one request in
# flight this long.
SLOW_MAX_SECONDS = 5.0
IN_FLIGHT_SECONDS = 1.5


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


def get(url: str) -> Reply:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our loopback server
            return Reply(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.headers, error.read())


def manage(environment: dict[str, str], *arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=APP_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> dict[str, str]:
    """A fresh database and STATIC_ROOT prepared the way the README and the deploy do it."""
    root = tmp_path_factory.mktemp("release")
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SECRET_KEY": "tests-only-secret-key-not-for-deployment",
        "DATABASE_URL": f"sqlite:///{root / 'db.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(root / "staticfiles"),
        "REDIS_URL": redis_url,
    }
    manage(environment, "migrate", "--noinput")
    assert manage(environment, "seed_movies", "--count", "5").splitlines()[-1] == (
        "seed_movies: changed (created 5, updated 0, deleted 0; 5 rows)"
    )
    assert manage(environment, "seed_movies", "--count", "5").splitlines()[-1] == (
        "seed_movies: unchanged (5 rows)"
    )
    assert manage(environment, "collectstatic", "--noinput").strip().startswith("1 static file")
    assert (root / "staticfiles" / "css" / "site.css.gz").is_file()
    return environment


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]


@contextmanager
def running(command: list[str], environment: dict[str, str], port: int) -> Iterator[Server]:
    """Start a server in its own process group, wait for /api/health, stop it at the end."""
    process = subprocess.Popen(
        command,
        cwd=APP_DIR,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            try:
                if get(f"{base_url}/api/health").status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{command[0]} did not answer: {process.stderr.read().decode()}")
            time.sleep(0.1)
        yield Server(base_url, process)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        process.stderr.close()


def assert_answered_by(reply: Reply, server: Server) -> None:
    """The body names this test's release and a live process of the server's own group."""
    assert reply.json()["release"] == RELEASE
    assert reply.headers["X-App-Release"] == RELEASE
    # Each server runs in a session of its own, so its processes are in its process group.
    assert os.getpgid(reply.json()["pid"]) == server.process.pid


def assert_serves_the_app(server: Server, server_name: str, health_path: str) -> None:
    base_url = server.url
    health = get(f"{base_url}{health_path}")
    assert health.status == 200
    assert health.json()["checks"] == {"database": "ok", "redis": "ok"}
    assert health.headers["X-App-Server"] == server_name
    assert_answered_by(health, server)
    liveness = get(f"{base_url}/api/health")
    assert_answered_by(liveness, server)
    # One worker: the cheap answer and the checked one come from the same process.
    assert liveness.json()["pid"] == health.json()["pid"]
    slow = get(f"{base_url}/api/slow?seconds=0.05")
    assert (slow.status, slow.json()) == (200, {"slept": 0.05})

    movies = get(f"{base_url}/api/demo/movies?limit=2")
    assert movies.json()["count"] == 5
    assert [movie["id"] for movie in movies.json()["items"]] == [1, 2]
    assert get(f"{base_url}/api/demo/movies?limit=500").status == 422

    index = get(f"{base_url}/")
    assert index.status == 200
    assert b'href="/static/css/site.css"' in index.body
    stylesheet = get(f"{base_url}/static/css/site.css")
    assert stylesheet.status == 200
    assert stylesheet.headers["Content-Type"].startswith("text/css")
    assert stylesheet.headers["X-App-Server"] == server_name


def server_environment(release: dict[str, str], name: str) -> dict[str, str]:
    return {
        **release,
        "APP_SERVER_NAME": name,
        "APP_RELEASE": RELEASE,
        "DJANGO_SLOW_ENDPOINT_MAX_SECONDS": str(SLOW_MAX_SECONDS),
    }


def assert_in_flight_request_outlives_sigterm(server: Server) -> None:
    """A slow request under way when the server's main process gets SIGTERM (as systemd stops
    a unit with KillMode=mixed) still gets its whole answer: the stop is graceful."""
    url = f"{server.url}/api/slow?seconds={IN_FLIGHT_SECONDS}"
    with ThreadPoolExecutor(max_workers=1) as pool:
        reply = pool.submit(get, url)
        time.sleep(IN_FLIGHT_SECONDS / 3)  # well inside the sleep
        server.process.send_signal(signal.SIGTERM)
        answer = reply.result(timeout=10)
    assert answer.status == 200
    assert answer.json() == {"slept": IN_FLIGHT_SECONDS}
    assert answer.headers["X-App-Release"] == RELEASE
    server.process.wait(timeout=10)


def test_gunicorn_wsgi(release: dict[str, str]):
    port = free_port()
    command = gunicorn_command(port)
    with running(command, server_environment(release, "gunicorn"), port) as server:
        assert_serves_the_app(server, "gunicorn", "/api/health/sync")
        assert_serves_the_app(server, "gunicorn", "/api/health/async")


def granian_command(interface: str, port: int, target: str) -> list[str]:
    return [
        str(VENV_BIN / "granian"),
        *("--interface", interface, "--host", "127.0.0.1", "--port", str(port)),
        *("--workers", "1", "--no-access-log"),
        target,
    ]


def test_granian_wsgi(release: dict[str, str]):
    port = free_port()
    command = granian_command("wsgi", port, "config.wsgi:application")
    with running(command, server_environment(release, "granian"), port) as server:
        assert_serves_the_app(server, "granian", "/api/health/sync")


def hypercorn_command(port: int) -> list[str]:
    return [
        str(VENV_BIN / "hypercorn"),
        *("--bind", f"127.0.0.1:{port}", "--workers", "1"),
        "config.asgi:application",
    ]


# Whether the server sends the headers of the app's websocket.accept in its handshake
# response: Hypercorn (and Uvicorn) do; Granian 2.8 (and Daphne 4.2) drop them.
ASGI_SERVERS = {
    "granian": (lambda port: granian_command("asgi", port, "config.asgi:application"), False),
    "hypercorn": (hypercorn_command, True),
}


@pytest.mark.parametrize("server_name", sorted(ASGI_SERVERS))
def test_asgi_server_with_websocket(release: dict[str, str], server_name: str):
    make_command, sends_accept_headers = ASGI_SERVERS[server_name]
    port = free_port()
    environment = server_environment(release, server_name)
    with running(make_command(port), environment, port) as server:
        assert_serves_the_app(server, server_name, "/api/health/async")
        assert_serves_the_app(server, server_name, "/api/health/sync")

        with WebSocketClient(port, "/ws/echo") as websocket:
            assert websocket.status == 101
            if sends_accept_headers:
                assert websocket.headers["x-app-server"] == server_name
                assert websocket.headers["x-app-release"] == RELEASE
            websocket.send(OPCODE_TEXT, "héllo".encode())
            assert websocket.receive() == (OPCODE_TEXT, "héllo".encode())
            websocket.send(OPCODE_BINARY, b"\x00\xff" * 100)
            assert websocket.receive() == (OPCODE_BINARY, b"\x00\xff" * 100)
            assert websocket.close()[0] == OPCODE_CLOSE

        with WebSocketClient(port, "/ws/nope") as refused:
            assert refused.status == 403


def gunicorn_command(port: int) -> list[str]:
    return [
        str(VENV_BIN / "gunicorn"),
        *("--bind", f"127.0.0.1:{port}", "--workers", "1"),
        "config.wsgi:application",
    ]


# Every server and interface the tests start, for the tests that treat them all alike.
ALL_SERVERS = {
    "gunicorn": gunicorn_command,
    "granian-wsgi": lambda port: granian_command("wsgi", port, "config.wsgi:application"),
    "granian-asgi": lambda port: granian_command("asgi", port, "config.asgi:application"),
    "hypercorn": hypercorn_command,
}


@pytest.mark.parametrize("server_name", sorted(ALL_SERVERS))
def test_in_flight_request_outlives_sigterm(release: dict[str, str], server_name: str):
    port = free_port()
    environment = server_environment(release, server_name)
    with running(ALL_SERVERS[server_name](port), environment, port) as server:
        assert_in_flight_request_outlives_sigterm(server)
