"""The JSON API (django-ninja), mounted at /api/."""

from __future__ import annotations

import functools
import json
import os
from typing import Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.errors import ValidationError

from demo import health
from demo.models import Movie

# Offsets beyond this are refused with 422: far past any table here, and small enough that the
# database never sees an integer it cannot hold (SQLite fails on > 2**63 - 1).
MAX_OFFSET = 1_000_000_000

CheckResult = Literal["ok", "error"]

api = NinjaAPI(
    title="Django Server Lab",
    version="1.0.0",
    description="The workload every app server is measured on.",
    docs_url=None,  # the Swagger UI needs assets from a CDN; /api/openapi.json stays
)


@api.exception_handler(ValidationError)
def invalid_request(request: HttpRequest, error: ValidationError) -> HttpResponse:
    """422 with ninja's detail list plus one readable line naming each bad value."""
    problems = []
    for problem in error.errors:
        location = problem.get("loc") or ()
        name = str(location[-1]) if location else "request"
        given = request.GET.get(name) if location and location[0] == "query" else None
        got = f" (got {given!r})" if given is not None else ""
        problems.append(f"{name}: {problem.get('msg', 'invalid')}{got}")
    body = {"message": "invalid request: " + "; ".join(problems), "detail": error.errors}
    return api.create_response(request, body, status=422)


RELEASE_DESCRIPTION = "The release this process runs (APP_RELEASE); empty when unset"
PID_DESCRIPTION = "The id of the process that answered"


class LivenessOut(Schema):
    status: Literal["healthy"]
    status_code: int
    release: str = Field(description=RELEASE_DESCRIPTION)
    pid: int = Field(description=PID_DESCRIPTION)


class ChecksOut(Schema):
    database: CheckResult
    redis: CheckResult


class SystemOut(Schema):
    timestamp: str = Field(description="Now, ISO 8601 in UTC")
    hostname: str
    os: str = Field(description="Kernel name and release")
    uptime: float | None = Field(description="Seconds since boot (the kernel's boot-time clock)")


class HealthOut(Schema):
    status: Literal["healthy", "unhealthy"]
    status_code: int
    checks: ChecksOut
    system: SystemOut
    release: str = Field(description=RELEASE_DESCRIPTION)
    pid: int = Field(description=PID_DESCRIPTION)


class MovieOut(Schema):
    id: int
    title: str
    year: int
    rating: float
    genre: str
    director: str
    runtime_minutes: int


class MoviePageQuery(Schema):
    limit: int = Field(
        settings.NINJA_PAGINATION_PER_PAGE, ge=1, le=settings.NINJA_PAGINATION_MAX_LIMIT
    )
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class MoviePageOut(Schema):
    count: int = Field(description="Movies in the whole table")
    limit: int
    offset: int
    items: list[MovieOut]


HEALTH_RESPONSES = {
    health.HEALTHY_STATUS_CODE: HealthOut,
    health.UNHEALTHY_STATUS_CODE: HealthOut,
}


@functools.lru_cache(maxsize=8)
def liveness_body(pid: int, release: str) -> bytes:
    """The liveness body of one process of one release: rendered once, then sent as is.

    Returning an HttpResponse skips ninja's response validation and JSON rendering, a third of
    this endpoint's time in Django. The key is the pid because servers fork their workers after
    importing the app (Gunicorn, uWSGI): each worker renders its own body on its first request.
    """
    answer = LivenessOut(status="healthy", status_code=200, release=release, pid=pid)
    return json.dumps(answer.model_dump()).encode()


@api.get("/health", response=LivenessOut, tags=["health"])
def liveness(request: HttpRequest) -> HttpResponse:
    """Constant answer per process with no I/O at all: the throughput benchmark."""
    body = liveness_body(os.getpid(), settings.APP_RELEASE)
    return HttpResponse(body, content_type="application/json; charset=utf-8")


@api.get("/health/sync", response=HEALTH_RESPONSES, tags=["health"])
def health_sync(request: HttpRequest) -> Status:
    """Database and Redis checked one after the other; 503 when either fails."""
    return Status(*health.run_checks())


@api.get("/health/async", response=HEALTH_RESPONSES, tags=["health"])
async def health_async(request: HttpRequest) -> Status:
    """The same contract as an async view: both checks run concurrently."""
    return Status(*await health.arun_checks())


@api.get("/demo/movies", response=MoviePageOut, tags=["demo"])
def list_movies(request: HttpRequest, page: Query[MoviePageQuery]) -> dict[str, object]:
    """One page of movies by id; limit 1..100 (default 20), offset from 0."""
    movies = Movie.objects.order_by("id")
    return {
        "count": movies.count(),
        "limit": page.limit,
        "offset": page.offset,
        "items": list(movies[page.offset : page.offset + page.limit]),
    }
