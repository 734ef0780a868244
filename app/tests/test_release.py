"""Which release and which process answered: the health bodies' release and pid, X-App-Release.

A zero-downtime deploy starts the new release's server beside the old one on the same port;
its health gate counts an answer as the new release's only when these say so.
"""

from __future__ import annotations

import json
import os

import httpx
import pytest
from asgiref.sync import async_to_sync
from django.core.asgi import get_asgi_application
from django.test import Client

from demo.api import liveness
from tests.test_asgi import BASE_URL
from tests.test_health import assert_report

RELEASE = "0123456789ab"


@pytest.fixture
def release(settings) -> str:
    """APP_RELEASE set as the unit sets it; the middleware reads it when a handler is built."""
    settings.APP_RELEASE = RELEASE
    return RELEASE


def test_liveness_names_the_release_and_the_process(release: str):
    response = Client().get("/api/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "healthy",
        "status_code": 200,
        "release": release,
        "pid": os.getpid(),
    }
    assert response["X-App-Release"] == release


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/health/sync", "/api/health/async"])
def test_checks_name_the_release_and_the_process(release: str, path: str):
    response = Client().get(path)
    assert response.status_code == 200
    assert_report(response.json(), database="ok", redis="ok", release=release)
    assert response["X-App-Release"] == release


def test_every_response_carries_the_release_header(release: str):
    client = Client()
    missing = client.get("/api/no-such-endpoint")
    assert missing.status_code == 404
    assert missing["X-App-Release"] == release
    wrong_host = Client(HTTP_HOST="evil.example").get("/api/health")
    assert wrong_host.status_code == 400
    assert wrong_host["X-App-Release"] == release


def test_liveness_follows_a_changed_release(settings):
    # The body is rendered once per process and release, not once for the life of the module.
    assert Client().get("/api/health").json()["release"] == ""
    settings.APP_RELEASE = RELEASE
    assert Client().get("/api/health").json()["release"] == RELEASE
    settings.APP_RELEASE = ""
    assert Client().get("/api/health").json()["release"] == ""


def test_a_worker_forked_after_the_first_answer_reports_its_own_pid(rf):
    # Gunicorn and uWSGI import the app and then fork: the parent's rendered body must not be
    # what the child sends.
    parent_body = json.loads(liveness(rf.get("/api/health")).content)
    assert parent_body["pid"] == os.getpid()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe and exits
        try:
            os.write(write_end, liveness(rf.get("/api/health")).content)
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        child_body = json.loads(pipe.read())
    os.waitpid(child, 0)
    assert child_body["pid"] == child
    assert child_body["pid"] != parent_body["pid"]


# The view needs no database, but Django's request_started receiver inspects any connection an
# earlier test left in this thread (SQLite in-memory test connections never close).
@pytest.mark.django_db
def test_release_header_over_asgi(release: str):
    application = get_asgi_application()  # a handler of its own, built with the release set

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            return await client.get("/api/health")

    response = async_to_sync(run)()
    assert response.headers["x-app-release"] == release
    assert response.json()["release"] == release
    # The WebSocket handshake says the same where the server passes accept headers on.
    from config.asgi import server_headers  # late: importing it builds Django's ASGI handler

    assert (b"x-app-release", release.encode()) in server_headers()


def test_no_release_no_header_in_the_websocket_accept():
    from config.asgi import server_headers

    assert all(name != b"x-app-release" for name, _ in server_headers())
