"""Views outside the ninja API: the index page and the slow endpoint for deploy tests."""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import render

ENDPOINTS = [
    ("/api/health", "liveness, no I/O"),
    ("/api/health/sync", "database and Redis checks, sync view"),
    ("/api/health/async", "the same checks, async view"),
    ("/api/demo/movies?limit=20&offset=0", "paginated movie list"),
    ("/api/openapi.json", "OpenAPI schema"),
]


def index(request: HttpRequest) -> HttpResponse:
    """A tiny HTML page whose stylesheet proves static files are served."""
    context = {"endpoints": ENDPOINTS, "app_server_name": settings.APP_SERVER_NAME}
    return render(request, "index.html", context)


def slow(request: HttpRequest) -> HttpResponse:
    """GET /api/slow?seconds=S: sleep S seconds, then answer {"slept": S}.

    A request that stays in flight while a server stops, for the zero-downtime deploy's tests.
    Off unless SLOW_ENDPOINT_MAX_SECONDS > 0: then it is a 404 from Django's own handler, the
    answer an unknown URL gets. A plain Django view rather than a ninja operation for that
    reason (ninja turns a 404 into its own JSON), and sync, so it runs under WSGI and ASGI
    servers alike (under ASGI in a thread of the request's own, never on the event loop).
    """
    maximum = settings.SLOW_ENDPOINT_MAX_SECONDS
    if maximum <= 0:
        raise Http404(request.path)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    valid = f"give 0 < seconds <= {maximum:g} (DJANGO_SLOW_ENDPOINT_MAX_SECONDS)"
    raw = request.GET.get("seconds")
    if raw is None:
        return JsonResponse({"message": f"seconds is required; {valid}"}, status=400)
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds):
        return JsonResponse({"message": f"seconds={raw!r} is not a number; {valid}"}, status=400)
    if not 0 < seconds <= maximum:
        return JsonResponse({"message": f"seconds={raw!r} is out of range; {valid}"}, status=400)
    time.sleep(seconds)
    return JsonResponse({"slept": seconds})
