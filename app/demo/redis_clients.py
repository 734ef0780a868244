"""Redis clients shared across requests, with timeouts short enough for a health check.

- Sync: one client (one connection pool) per process.
- Every pool is bounded (settings.REDIS_MAX_CONNECTIONS) and blocking: a request that finds
  all connections busy waits for one, up to the socket timeout, instead of failing. redis-py's
  plain pool fails at once past its bound (100 since redis-py 6), and a server holds far more
  requests than that at once in one process: an ASGI server runs each sync view in its own
  thread, and an async view needs a connection per concurrent request. Under wrk -c200 against
  Uvicorn, /api/health/sync answered 503 "MaxConnectionsError" that way.
- Async: one client per running event loop. A redis.asyncio connection belongs to the loop
  that opened it, and loops come and go: an ASGI server keeps one per worker, but a WSGI
  server runs an async view through async_to_sync, i.e. in a new loop per request. So the
  client is cached per loop, and closed when its loop shuts down.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any
from weakref import WeakKeyDictionary

import redis
import redis.asyncio
import redis.asyncio.retry
import redis.retry
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis.backoff import NoBackoff

# A dead Redis must turn into a 503 well within 1.5 s: connect and read give up after 0.5 s.
# One immediate retry, on connection errors only, replaces a pooled connection the server has
# closed (e.g. after a Redis restart); a timeout is not retried, so it costs 0.5 s at most.
SOCKET_TIMEOUT_SECONDS = 0.5


def _pool_options(retry: Any) -> dict[str, Any]:  # noqa: ANN401
    return {
        "max_connections": settings.REDIS_MAX_CONNECTIONS,
        # How long a request waits for a free connection of the pool.
        "timeout": SOCKET_TIMEOUT_SECONDS,
        "socket_connect_timeout": SOCKET_TIMEOUT_SECONDS,
        "socket_timeout": SOCKET_TIMEOUT_SECONDS,
        "retry": retry,
    }


_sync_client: redis.Redis | None = None
_sync_lock = threading.Lock()


def get_sync_redis() -> redis.Redis:
    """The process-wide client; its pool is thread-safe."""
    global _sync_client  # noqa: PLW0603
    client = _sync_client
    if client is None:
        with _sync_lock:
            if _sync_client is None:
                retry = redis.retry.Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,))
                pool = redis.BlockingConnectionPool.from_url(
                    settings.REDIS_URL, **_pool_options(retry)
                )
                _sync_client = redis.Redis.from_pool(pool)
            client = _sync_client
    return client


_async_clients: WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis] = (
    WeakKeyDictionary()
)
# Strong references to the generators that close each loop's client (see below).
_async_closers: WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncIterator[None]] = (
    WeakKeyDictionary()
)
# Threads of a WSGI server each run loops of their own and reach these maps at the same time.
# Reentrant: dropping a closer may finalize it, and its `finally` takes the lock too.
_async_lock = threading.RLock()


async def get_async_redis() -> redis.asyncio.Redis:
    """The client of the running event loop, made on first use in that loop."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is not None:
        return client
    retry = redis.asyncio.retry.Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,))
    pool = redis.asyncio.BlockingConnectionPool.from_url(settings.REDIS_URL, **_pool_options(retry))
    client = redis.asyncio.Redis.from_pool(pool)
    # An event loop has no close hook, but it does finalize its async generators when it shuts
    # down (asyncio.run does, and so async_to_sync, uvicorn, hypercorn...): a generator parked
    # at its `yield` gets aclose()d then, and its `finally` closes the client in that loop.
    closer = _close_at_loop_shutdown(loop, client)
    with _async_lock:
        # Loops closed without finalizing their generators would otherwise stay here.
        for old_loop in [known for known in _async_clients if known.is_closed()]:
            _async_clients.pop(old_loop, None)
            _async_closers.pop(old_loop, None)
        _async_clients[loop] = client
        _async_closers[loop] = closer
    await anext(closer)
    return client


async def _close_at_loop_shutdown(
    loop: asyncio.AbstractEventLoop, client: redis.asyncio.Redis
) -> AsyncIterator[None]:
    try:
        yield
    finally:
        with _async_lock:
            if _async_clients.get(loop) is client:
                _async_clients.pop(loop, None)
                _async_closers.pop(loop, None)
        await client.aclose()


async def close_async_redis() -> None:
    """Close the running loop's client now (ASGI lifespan shutdown)."""
    loop = asyncio.get_running_loop()
    with _async_lock:
        client = _async_clients.pop(loop, None)
        _async_closers.pop(loop, None)
    if client is not None:
        await client.aclose()


@receiver(setting_changed)
def _forget_clients(setting: str, **kwargs: Any) -> None:  # noqa: ANN401
    """Tests point REDIS_URL elsewhere; the next request then makes new clients."""
    global _sync_client  # noqa: PLW0603
    if setting not in {"REDIS_URL", "REDIS_MAX_CONNECTIONS"}:
        return
    with _sync_lock:
        if _sync_client is not None:
            _sync_client.close()
        _sync_client = None
    # Async clients belong to their loops, which close them; just stop handing them out.
    with _async_lock:
        _async_clients.clear()
        _async_closers.clear()
