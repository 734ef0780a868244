"""Middleware that works in both modes without a thread hop.

Django adapts a sync-only middleware under ASGI by running it in a thread, and its
MiddlewareMixin classes hop to a thread for each process_request/process_response. The
classes here call the next handler the way it was given to them, sync or async.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, BinaryIO

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponseBase
from whitenoise.middleware import WhiteNoiseMiddleware

GetResponse = Callable[[HttpRequest], Any]


class DualModeMiddleware:
    """Base class: `__call__` returns a coroutine when the next handler is async."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.async_mode:
            return self.acall(request)
        return self.call(request)

    def call(self, request: HttpRequest) -> HttpResponseBase:
        raise NotImplementedError

    async def acall(self, request: HttpRequest) -> HttpResponseBase:
        raise NotImplementedError


class ResponseHeadersMiddleware(DualModeMiddleware):
    """Adds X-App-Server and X-App-Release (each when its setting is set) and two cheap
    security headers.

    It is first in MIDDLEWARE, so error responses made further in (400, 404, 500) carry the
    headers too. X-App-Server tells which server answered in a split WSGI+ASGI layout;
    X-App-Release which release answered while two share a port during a deploy.
    """

    def __init__(self, get_response: GetResponse) -> None:
        super().__init__(get_response)
        self.headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
        if settings.APP_SERVER_NAME:
            self.headers["X-App-Server"] = settings.APP_SERVER_NAME
        if settings.APP_RELEASE:
            self.headers["X-App-Release"] = settings.APP_RELEASE

    def add_headers(self, response: HttpResponseBase) -> HttpResponseBase:
        for name, value in self.headers.items():
            response.setdefault(name, value)
        return response

    def call(self, request: HttpRequest) -> HttpResponseBase:
        return self.add_headers(self.get_response(request))

    async def acall(self, request: HttpRequest) -> HttpResponseBase:
        return self.add_headers(await self.get_response(request))


class AllowedHostsMiddleware(DualModeMiddleware):
    """Rejects a Host not in ALLOWED_HOSTS with 400.

    Django checks the Host only when something calls request.get_host(); without
    CommonMiddleware (left out for speed) nothing would.
    """

    def call(self, request: HttpRequest) -> HttpResponseBase:
        request.get_host()  # raises DisallowedHost, which Django turns into a 400
        return self.get_response(request)

    async def acall(self, request: HttpRequest) -> HttpResponseBase:
        request.get_host()
        return await self.get_response(request)


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, able to pass non-static requests on in async mode without a thread hop.

    Only used when DJANGO_SERVE_STATIC is on. Files are indexed at start-up from STATIC_ROOT
    (and from the finders when DEBUG is on), so run collectstatic first.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse, settings: Any = settings) -> None:  # noqa: ANN401
        super().__init__(get_response, settings=settings)
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.async_mode:
            return self.acall(request)
        return super().__call__(request)

    async def acall(self, request: HttpRequest) -> HttpResponseBase:
        if self.autorefresh:
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is None:
            return await self.get_response(request)
        # Opening the file and reading it are blocking I/O: keep them off the event loop. An
        # async iterator also spares Django's warning about sync iterators under ASGI.
        response = await sync_to_async(self.serve, thread_sensitive=False)(static_file, request)
        response.streaming_content = read_file_async(response, response.file_to_stream)
        return response


async def read_file_async(response: FileResponse, file: BinaryIO | None) -> AsyncIterator[bytes]:
    """The file in chunks of the response's block_size (Django's ASGI handler raises it)."""
    if file is None:  # HEAD, 304: no body
        return
    read = sync_to_async(file.read, thread_sensitive=False)
    while chunk := await read(response.block_size):
        yield chunk
