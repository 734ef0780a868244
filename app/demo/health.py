"""The checks behind /api/health/sync and /api/health/async, and the system facts they report."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from datetime import UTC, datetime
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from demo.redis_clients import get_async_redis, get_sync_redis

logger = logging.getLogger(__name__)

OK = "ok"
ERROR = "error"
HEALTHY_STATUS_CODE = 200
UNHEALTHY_STATUS_CODE = 503

# Facts that do not change while the process lives.
_UNAME = os.uname()
HOSTNAME = socket.gethostname()
OS_NAME = f"{_UNAME.sysname} {_UNAME.release}"


def check_database() -> str:
    """Open a cursor and run a trivial query on the default database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - a health check reports any failure
        logger.warning("health check: database failed: %r", error)
        return ERROR
    return OK


def check_redis() -> str:
    """PING Redis with the process-wide client (bounded by its socket timeouts)."""
    try:
        get_sync_redis().ping()
    except Exception as error:  # noqa: BLE001
        logger.warning("health check: redis failed: %r", error)
        return ERROR
    return OK


async def acheck_database() -> str:
    # Django's database layer is sync; thread_sensitive keeps the request's connection in the
    # thread that owns it (the WSGI worker's thread under async_to_sync).
    return await sync_to_async(check_database, thread_sensitive=True)()


async def acheck_redis() -> str:
    try:
        client = await get_async_redis()
        await client.ping()
    except Exception as error:  # noqa: BLE001
        logger.warning("health check: redis failed: %r", error)
        return ERROR
    return OK


def read_uptime_seconds() -> float | None:
    """Seconds since boot from the kernel's boot-time clock (what /proc/uptime shows, without
    reading /proc, which the hardened units hide: ProcSubset=pid), or None where there is none."""
    try:
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    except (AttributeError, OSError):
        return None


def system_facts() -> dict[str, Any]:
    return {
        "timestamp": datetime.now(UTC).isoformat(),
        "hostname": HOSTNAME,
        "os": OS_NAME,
        "uptime": read_uptime_seconds(),
    }


def report(database: str, redis: str) -> tuple[int, dict[str, Any]]:
    """The status code and body shared by both endpoints."""
    healthy = database == OK and redis == OK
    status_code = HEALTHY_STATUS_CODE if healthy else UNHEALTHY_STATUS_CODE
    body = {
        "status": "healthy" if healthy else "unhealthy",
        "status_code": status_code,
        "checks": {"database": database, "redis": redis},
        "system": system_facts(),
        "release": settings.APP_RELEASE,
        "pid": os.getpid(),
    }
    return status_code, body


def run_checks() -> tuple[int, dict[str, Any]]:
    return report(database=check_database(), redis=check_redis())


async def arun_checks() -> tuple[int, dict[str, Any]]:
    database, redis = await asyncio.gather(acheck_database(), acheck_redis())
    return report(database=database, redis=redis)
