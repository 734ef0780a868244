"""The ASGI application: Django over HTTP, the WebSocket echo and lifespan."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

from tests.redis_server import RedisServer
from tests.test_health import DEADLINE_SECONDS, assert_report

BASE_URL = "http://localhost"


@pytest.fixture(scope="session")
def asgi_app(lab_settings: None) -> Callable[..., Awaitable[None]]:
    # Imported late: the handler builds its middleware (and WhiteNoise its file index) now,
    # with the test settings in force.
    from config.asgi import application

    return application


def asgi_get(app: Any, *paths: str) -> list[httpx.Response]:
    """GET each path in turn in one event loop, as one ASGI server worker would."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            return [await client.get(path) for path in paths]

    return async_to_sync(run)()


@pytest.mark.django_db(transaction=True)
def test_async_health_over_asgi(asgi_app):
    (response,) = asgi_get(asgi_app, "/api/health/async")
    assert response.status_code == 200
    assert_report(response.json(), database="ok", redis="ok")
    assert response.headers["x-app-server"] == "pytest"


@pytest.mark.django_db(transaction=True)
def test_async_health_reuses_one_connection_per_loop(asgi_app, settings, own_redis: RedisServer):
    settings.REDIS_URL = own_redis.url
    # Checked inside the loop: the loop's client and its one pooled connection must still be
    # there after earlier requests, not made anew per request.
    seen: list[int] = []

    async def run() -> None:
        transport = httpx.ASGITransport(app=asgi_app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            for _ in range(10):
                response = await client.get("/api/health/async")
                assert response.status_code == 200
                seen.append(own_redis.connected_clients())

    async_to_sync(run)()
    assert seen == [1] * 10


@pytest.mark.django_db(transaction=True)
def test_async_health_503_over_asgi_when_redis_is_killed(asgi_app, settings, own_redis):
    settings.REDIS_URL = own_redis.url

    async def run() -> tuple[int, int, dict, float]:
        transport = httpx.ASGITransport(app=asgi_app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            before = await client.get("/api/health/async")
            own_redis.kill()
            started = time.monotonic()
            after = await client.get("/api/health/async")
            return before.status_code, after.status_code, after.json(), time.monotonic() - started

    before, after, body, elapsed = async_to_sync(run)()
    assert before == 200
    assert after == 503
    assert_report(body, database="ok", redis="error")
    assert elapsed < DEADLINE_SECONDS


# The view needs no database, but Django's request_started receiver inspects any connection an
# earlier test left in this thread (SQLite in-memory test connections never close).
@pytest.mark.django_db
def test_liveness_and_static_over_asgi(asgi_app):
    health, index, stylesheet, missing = asgi_get(
        asgi_app, "/api/health", "/", "/static/css/site.css", "/static/css/nope.css"
    )
    assert health.json() == {
        "status": "healthy",
        "status_code": 200,
        "release": "",
        "pid": os.getpid(),
    }
    assert index.status_code == 200
    assert '<link rel="stylesheet" href="/static/css/site.css">' in index.text
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")
    assert "Django Server Lab" in stylesheet.text
    assert stylesheet.headers["x-app-server"] == "pytest"
    assert missing.status_code == 404


@pytest.mark.django_db
def test_static_head_and_gzip_over_asgi(asgi_app):
    async def run() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=asgi_app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            head = await client.head("/static/css/site.css")
            gzipped = await client.get("/static/css/site.css", headers={"Accept-Encoding": "gzip"})
            return head, gzipped

    head, gzipped = async_to_sync(run)()
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) > 0
    assert gzipped.headers["content-encoding"] == "gzip"
    assert "Django Server Lab" in gzipped.text  # httpx decompresses


def websocket_scope(path: str) -> dict[str, Any]:
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "subprotocols": [],
    }


def test_websocket_echo(asgi_app):
    async def run() -> list[dict[str, Any]]:
        communicator = ApplicationCommunicator(asgi_app, websocket_scope("/ws/echo"))
        await communicator.send_input({"type": "websocket.connect"})
        outputs = [await communicator.receive_output(timeout=2)]
        await communicator.send_input({"type": "websocket.receive", "text": "héllo"})
        outputs.append(await communicator.receive_output(timeout=2))
        await communicator.send_input({"type": "websocket.receive", "bytes": b"\x00\xffbin"})
        outputs.append(await communicator.receive_output(timeout=2))
        await communicator.send_input({"type": "websocket.disconnect", "code": 1000})
        await communicator.wait(timeout=2)
        return outputs

    accept, text, binary = async_to_sync(run)()
    assert accept == {"type": "websocket.accept", "headers": [(b"x-app-server", b"pytest")]}
    assert text == {"type": "websocket.send", "text": "héllo"}
    assert binary == {"type": "websocket.send", "bytes": b"\x00\xffbin"}


def test_websocket_other_path_is_refused(asgi_app):
    async def run() -> dict[str, Any]:
        communicator = ApplicationCommunicator(asgi_app, websocket_scope("/ws/nope"))
        await communicator.send_input({"type": "websocket.connect"})
        output = await communicator.receive_output(timeout=2)
        await communicator.wait(timeout=2)
        return output

    assert async_to_sync(run)() == {"type": "websocket.close", "code": 4404}


def test_lifespan(asgi_app):
    async def run() -> list[dict[str, Any]]:
        communicator = ApplicationCommunicator(asgi_app, {"type": "lifespan", "asgi": {}})
        await communicator.send_input({"type": "lifespan.startup"})
        outputs = [await communicator.receive_output(timeout=2)]
        await communicator.send_input({"type": "lifespan.shutdown"})
        outputs.append(await communicator.receive_output(timeout=2))
        await communicator.wait(timeout=2)
        return outputs

    assert async_to_sync(run)() == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.complete"},
    ]
