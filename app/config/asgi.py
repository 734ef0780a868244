"""ASGI entry point: config.asgi:application (Uvicorn, Hypercorn, Daphne, Granian --interface asgi).

Django answers HTTP only. This module's small router sends each scope where it belongs:

- ``http``: Django.
- ``websocket`` on ``/ws/echo``: an echo handler (text and bytes, until the client leaves);
  any other path is refused (closed before accept with code 4404; servers answer HTTP 403).
- ``lifespan``: answered here, since Django's handler does not support it.
"""

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django's ASGI handler runs each request's sync code in a thread of its own, so a database
# connection kept for later is never reused, only left open until garbage collection. Django's
# docs say to disable persistent connections under ASGI; DJANGO_ASGI_CONN_MAX_AGE overrides.
os.environ["DJANGO_CONN_MAX_AGE"] = os.environ.get("DJANGO_ASGI_CONN_MAX_AGE", "0")

from django.core.asgi import get_asgi_application

django_application = get_asgi_application()

from django.conf import settings  # noqa: E402

from demo.redis_clients import close_async_redis  # noqa: E402

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

WEBSOCKET_ECHO_PATH = "/ws/echo"
WEBSOCKET_NOT_FOUND_CODE = 4404


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    scope_type = scope["type"]
    if scope_type == "http":
        await django_application(scope, receive, send)
    elif scope_type == "websocket":
        if scope["path"] == WEBSOCKET_ECHO_PATH:
            await websocket_echo(receive, send)
        else:
            await websocket_not_found(receive, send)
    elif scope_type == "lifespan":
        await lifespan(receive, send)
    else:
        raise ValueError(
            f"unsupported ASGI scope type {scope_type!r}; expected http, websocket or lifespan"
        )


def server_headers() -> list[tuple[bytes, bytes]]:
    """The headers ResponseHeadersMiddleware gives HTTP responses that say who answered."""
    headers = []
    if settings.APP_SERVER_NAME:
        headers.append((b"x-app-server", settings.APP_SERVER_NAME.encode("latin-1")))
    if settings.APP_RELEASE:
        headers.append((b"x-app-release", settings.APP_RELEASE.encode("ascii")))
    return headers


async def websocket_echo(receive: Receive, send: Send) -> None:
    """Accept, then send every text or bytes message straight back until disconnect."""
    accepted = False
    while True:
        message = await receive()
        message_type = message["type"]
        if message_type == "websocket.connect" and not accepted:
            await send({"type": "websocket.accept", "headers": server_headers()})
            accepted = True
        elif message_type == "websocket.receive":
            if message.get("text") is not None:
                await send({"type": "websocket.send", "text": message["text"]})
            else:
                await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})
        elif message_type == "websocket.disconnect":
            return


async def websocket_not_found(receive: Receive, send: Send) -> None:
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": WEBSOCKET_NOT_FOUND_CODE})


async def lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await close_async_redis()
            await send({"type": "lifespan.shutdown.complete"})
            return
