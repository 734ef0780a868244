"""The health endpoints through Django's test client (the WSGI code path)."""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime

import pytest
from django.test import Client

from tests.redis_server import RedisServer

DEADLINE_SECONDS = 1.5


def assert_report(body: dict, *, database: str, redis: str, release: str = "") -> None:
    """The report's contract; the test client runs views in this process, so the pid is ours."""
    assert set(body) == {"status", "status_code", "checks", "system", "release", "pid"}
    assert body["release"] == release
    assert body["pid"] == os.getpid()
    healthy = database == "ok" and redis == "ok"
    assert body["status"] == ("healthy" if healthy else "unhealthy")
    assert body["status_code"] == (200 if healthy else 503)
    assert body["checks"] == {"database": database, "redis": redis}
    system = body["system"]
    assert set(system) == {"timestamp", "hostname", "os", "uptime"}
    assert datetime.fromisoformat(system["timestamp"]).utcoffset().total_seconds() == 0
    assert system["hostname"] == socket.gethostname()
    assert system["os"].startswith("Linux ")
    assert isinstance(system["uptime"], float)
    assert system["uptime"] > 0


def timed_get(client: Client, path: str) -> tuple[object, float]:
    started = time.monotonic()
    response = client.get(path)
    return response, time.monotonic() - started


def test_liveness_needs_neither_database_nor_redis(client: Client, settings, dead_redis_url):
    # No django_db mark: any database access would fail, and Redis is a closed port.
    settings.REDIS_URL = dead_redis_url
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "healthy",
        "status_code": 200,
        "release": "",
        "pid": os.getpid(),
    }
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["X-App-Server"] == "pytest"
    assert "X-App-Release" not in response


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/health/sync", "/api/health/async"])
def test_checks_pass(client: Client, path: str):
    response = client.get(path)
    assert response.status_code == 200
    assert_report(response.json(), database="ok", redis="ok")
    assert response["X-App-Server"] == "pytest"
    assert "X-App-Release" not in response


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/health/sync", "/api/health/async"])
def test_503_within_deadline_when_redis_is_killed(
    client: Client, settings, own_redis: RedisServer, path: str
):
    settings.REDIS_URL = own_redis.url
    assert client.get(path).status_code == 200  # the check really talks to this server

    own_redis.kill()
    response, elapsed = timed_get(client, path)

    assert response.status_code == 503
    assert_report(response.json(), database="ok", redis="error")
    assert elapsed < DEADLINE_SECONDS


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/health/sync", "/api/health/async"])
def test_503_within_deadline_when_redis_hangs(
    client: Client, settings, own_redis: RedisServer, path: str
):
    settings.REDIS_URL = own_redis.url
    assert client.get(path).status_code == 200

    own_redis.pause()  # connections are accepted by the kernel, PING is never answered
    try:
        response, elapsed = timed_get(client, path)
    finally:
        own_redis.resume()

    assert response.status_code == 503
    assert_report(response.json(), database="ok", redis="error")
    assert elapsed < DEADLINE_SECONDS
    # Once Redis answers again, so does the check, with the same clients.
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/api/health/sync", "/api/health/async"])
def test_503_when_database_is_unavailable(client: Client, path: str):
    # No django_db mark: pytest-django refuses every database connection.
    response = client.get(path)
    assert response.status_code == 503
    assert_report(response.json(), database="error", redis="ok")


@pytest.mark.django_db
def test_async_view_under_wsgi_closes_each_loops_client(client: Client, settings, own_redis):
    # Under WSGI the async view runs in a new event loop per request; the client made in that
    # loop must be closed with it, not left connected.
    settings.REDIS_URL = own_redis.url
    for _ in range(5):
        assert client.get("/api/health/async").status_code == 200
    deadline = time.monotonic() + 2
    while own_redis.connected_clients() > 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert own_redis.connected_clients() == 0
