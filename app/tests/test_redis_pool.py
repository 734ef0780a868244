"""The Redis pools under more concurrent requests than connections, against a real Redis.

An ASGI server runs each sync view in a thread of its own and each async view as a task, so
one process can hold hundreds of health checks at once. The pools are bounded by
REDIS_MAX_CONNECTIONS; a check that finds every connection busy must wait for one, not fail.
Pausing Redis (SIGSTOP) for a moment makes every in-flight check hold its connection at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from demo.health import ERROR, OK, acheck_redis, check_redis
from tests.redis_server import RedisServer
from tests.test_health import DEADLINE_SECONDS

POOL_SIZE = 4
CONCURRENT_CHECKS = 40
# Shorter than the 0.5 s socket and pool timeouts, so checks held up by it still pass.
PAUSE_SECONDS = 0.2


def resume_after_a_moment(server: RedisServer) -> threading.Timer:
    timer = threading.Timer(PAUSE_SECONDS, server.resume)
    timer.start()
    return timer


def run_sync_checks(count: int) -> tuple[list[str], float]:
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=count) as executor:
        results = list(executor.map(lambda _: check_redis(), range(count)))
    return results, time.monotonic() - started


def test_sync_checks_wait_for_a_free_connection(settings, own_redis: RedisServer):
    settings.REDIS_URL = own_redis.url
    settings.REDIS_MAX_CONNECTIONS = POOL_SIZE
    assert check_redis() == OK

    own_redis.pause()
    timer = resume_after_a_moment(own_redis)
    results, _ = run_sync_checks(CONCURRENT_CHECKS)
    timer.join()

    assert results == [OK] * CONCURRENT_CHECKS
    assert own_redis.connected_clients() <= POOL_SIZE


def test_async_checks_wait_for_a_free_connection(settings, own_redis: RedisServer):
    settings.REDIS_URL = own_redis.url
    settings.REDIS_MAX_CONNECTIONS = POOL_SIZE

    async def checks_in_one_loop() -> tuple[list[str], int]:
        # One event loop, as in one ASGI worker: its client and pool serve every task.
        assert await acheck_redis() == OK
        own_redis.pause()
        timer = resume_after_a_moment(own_redis)
        results = await asyncio.gather(*(acheck_redis() for _ in range(CONCURRENT_CHECKS)))
        await asyncio.to_thread(timer.join)
        return list(results), await asyncio.to_thread(own_redis.connected_clients)

    results, connected = asyncio.run(checks_in_one_loop())

    assert results == [OK] * CONCURRENT_CHECKS
    assert connected <= POOL_SIZE


def test_sync_checks_give_up_within_the_deadline_when_redis_hangs(settings, own_redis: RedisServer):
    # Waiting for a connection is bounded too: a hung Redis still turns into a 503 in time.
    settings.REDIS_URL = own_redis.url
    settings.REDIS_MAX_CONNECTIONS = 1
    assert check_redis() == OK

    own_redis.pause()
    try:
        results, elapsed = run_sync_checks(3)
    finally:
        own_redis.resume()

    assert results == [ERROR] * 3
    assert elapsed < DEADLINE_SECONDS
