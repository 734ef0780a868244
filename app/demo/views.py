from django.conf import settings
from django.http import HttpRequest, HttpResponse
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
