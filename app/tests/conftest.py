from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test.utils import override_settings

from tests.redis_server import RedisServer, answers_ping

APP_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """REDIS_URL if a Redis answers there, otherwise a redis-server started for the session."""
    if answers_ping(settings.REDIS_URL):
        yield settings.REDIS_URL
        return
    server = RedisServer.start()
    try:
        yield server.url
    finally:
        server.kill()


@pytest.fixture(scope="session")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("staticfiles")


@pytest.fixture(scope="session", autouse=True)
def lab_settings(redis_url: str, static_root: Path) -> Iterator[None]:
    """Point the app at the session's Redis and a collected STATIC_ROOT for every test."""
    with override_settings(REDIS_URL=redis_url, STATIC_ROOT=static_root):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield


@pytest.fixture
def dead_redis_url() -> str:
    """A loopback port nothing listens on."""
    server = RedisServer.start()
    server.kill()
    return server.url


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of the test's own, which the test may pause or kill."""
    server = RedisServer.start()
    try:
        yield server
    finally:
        server.kill()
