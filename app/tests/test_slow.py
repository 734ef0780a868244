"""GET /api/slow?seconds=S: off by default, bounded by DJANGO_SLOW_ENDPOINT_MAX_SECONDS."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from django.core.asgi import get_asgi_application
from django.test import Client

from tests.test_asgi import BASE_URL

MAXIMUM = 2.0


@pytest.fixture
def slow_on(settings) -> float:
    settings.SLOW_ENDPOINT_MAX_SECONDS = MAXIMUM
    return MAXIMUM


@pytest.mark.parametrize("method", ["get", "post"])
def test_off_by_default_answers_as_an_unknown_url(client: Client, method: str):
    off = getattr(client, method)("/api/slow?seconds=1")
    unknown = getattr(client, method)("/api/no-such-endpoint?seconds=1")
    assert off.status_code == unknown.status_code == 404
    assert off["Content-Type"] == unknown["Content-Type"]
    assert off.content == unknown.content


@pytest.mark.parametrize("seconds", ["0.2", "2"])
def test_sleeps_then_answers(client: Client, slow_on: float, seconds: str):
    started = time.monotonic()
    response = client.get(f"/api/slow?seconds={seconds}")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json() == {"slept": float(seconds)}
    assert elapsed >= float(seconds)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("seconds=2.5", "seconds='2.5' is out of range; give 0 < seconds <= 2"),
        ("seconds=0", "seconds='0' is out of range; give 0 < seconds <= 2"),
        ("seconds=-1", "seconds='-1' is out of range; give 0 < seconds <= 2"),
        ("seconds=soon", "seconds='soon' is not a number; give 0 < seconds <= 2"),
        ("seconds=nan", "seconds='nan' is not a number; give 0 < seconds <= 2"),
        ("seconds=inf", "seconds='inf' is not a number; give 0 < seconds <= 2"),
        ("seconds=", "seconds='' is not a number; give 0 < seconds <= 2"),
        ("", "seconds is required; give 0 < seconds <= 2"),
    ],
)
def test_bad_seconds_get_400_naming_the_value_and_the_maximum(
    client: Client, slow_on: float, query: str, message: str
):
    started = time.monotonic()
    response = client.get(f"/api/slow?{query}")
    assert time.monotonic() - started < 0.5  # refused, not slept on
    assert response.status_code == 400
    assert response.json() == {"message": f"{message} (DJANGO_SLOW_ENDPOINT_MAX_SECONDS)"}


def test_only_get(client: Client, slow_on: float):
    response = client.post("/api/slow?seconds=0.1")
    assert response.status_code == 405
    assert response["Allow"] == "GET"


# The view needs no database, but Django's request_started receiver inspects any connection an
# earlier test left in this thread (SQLite in-memory test connections never close).
@pytest.mark.django_db(transaction=True)
def test_under_asgi_requests_sleep_side_by_side(slow_on: float):
    # Under ASGI the sync view runs in a thread of its request's own: two in flight at once
    # take about one's time, and the event loop stays free meanwhile.
    application = get_asgi_application()
    seconds = 0.5

    async def run() -> tuple[list[httpx.Response], float]:
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            started = time.monotonic()
            responses = await asyncio.gather(
                *(client.get(f"/api/slow?seconds={seconds}") for _ in range(2))
            )
            return list(responses), time.monotonic() - started

    # asyncio.run, as a server runs its loop: under async_to_sync, asgiref would send every
    # thread-sensitive call back to this thread, one after the other.
    responses, elapsed = asyncio.run(run())
    assert [response.status_code for response in responses] == [200, 200]
    assert [response.json() for response in responses] == [{"slept": seconds}] * 2
    assert seconds <= elapsed < 2 * seconds
