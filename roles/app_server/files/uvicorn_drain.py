"""Uvicorn with a graceful stop for connections it has just accepted: the units' command for
Uvicorn (app_server role).

    <release venv>/bin/python uvicorn_drain.py --http uvicorn_drain:DrainingHttpToolsProtocol ...

On SIGTERM Uvicorn stops listening and then closes every connection that has no request in
progress, which includes one it accepted an instant before and whose request it has not read
yet. That client sent its request to a port that was answering, and gets a reset: during a
handover under load, about one new connection in tens of thousands (the zero-downtime test saw
it). This runs Uvicorn's own command line with an HTTP protocol whose shutdown gives such a
connection FIRST_REQUEST_SECONDS to send its request, answers it with Connection: close, and
closes the connection only when no request came. A keep-alive connection between requests is
closed at once, as Uvicorn does: a client retries a request on a reused connection that closes.
"""

from __future__ import annotations

import asyncio
import sys

from uvicorn.main import main
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# How long a connection without its first request is kept open once the server stops. A client
# sends its request right after connecting; this only has to cover a busy event loop.
FIRST_REQUEST_SECONDS = 2.0


class DrainingHttpToolsProtocol(HttpToolsProtocol):
    """Uvicorn's httptools protocol, without the shutdown that cuts a connection's first request."""

    draining = False
    first_request_timer: asyncio.TimerHandle | None = None

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self.draining and self.cycle is not None:
            self.cycle.keep_alive = False

    def shutdown(self) -> None:
        # A cycle exists once a request's headers are in: Uvicorn's shutdown then lets it finish.
        if self.cycle is not None or self.transport.is_closing():
            super().shutdown()
            return
        self.draining = True
        self.first_request_timer = self.loop.call_later(
            FIRST_REQUEST_SECONDS, self.close_without_request
        )

    def close_without_request(self) -> None:
        """The stop's deadline for a connection's first request: close it when none came."""
        if self.cycle is None and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.first_request_timer is not None:
            self.first_request_timer.cancel()
        super().connection_lost(exc)


if __name__ == "__main__":
    sys.exit(main())
