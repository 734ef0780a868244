"""Uvicorn's stop with the units' protocol (roles/app_server/files/uvicorn_drain.py), run as the
unit runs it: a connection Uvicorn accepted just before SIGTERM, whose request it has not read
yet, still gets its answer; with Uvicorn's own httptools protocol that connection is cut."""

from __future__ import annotations

import contextlib
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROLES_DIR

DRAIN = ROLES_DIR / "app_server" / "files" / "uvicorn_drain.py"
DRAINING_PROTOCOL = "uvicorn_drain:DrainingHttpToolsProtocol"
APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok"})
"""
# Uvicorn ends by raising the signal it stopped on again, which systemd counts as a clean stop.
STOPPED = -signal.SIGTERM
# Long enough for a loaded test machine; every wait below ends as soon as its condition holds.
TIMEOUT_SECONDS = 20.0


class Server:
    """Uvicorn started through uvicorn_drain.py on a socket it adopts (--fd, as the launcher
    hands it over), with a line reader for its log."""

    def __init__(self, tmp_path: Path, http: str) -> None:
        (tmp_path / "asgi_app.py").write_text(APP)
        listener = socket.create_server(("127.0.0.1", 0), reuse_port=True)
        self.port = listener.getsockname()[1]
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(DRAIN),
                "--fd",
                str(listener.fileno()),
                "--app-dir",
                str(tmp_path),
                "--http",
                http,
                "--loop",
                "asyncio",
                "--lifespan",
                "off",
                "asgi_app:app",
            ],
            pass_fds=(listener.fileno(),),
            stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Only the server holds the socket now: once it closes it, the port refuses.
        listener.close()
        self.log: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self.read_log, daemon=True).start()
        self.wait_for_log("Uvicorn running on")

    def wait_for_log(self, text: str) -> None:
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.log.get(timeout=left)
            except queue.Empty:
                break
            assert line is not None, f"uvicorn exited before it logged {text!r}"
            if text in line:
                return
        pytest.fail(f"uvicorn did not log {text!r} in {TIMEOUT_SECONDS} s")

    def read_log(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.put(line)
        self.log.put(None)

    def accept_queue(self) -> int:
        """Connections the kernel holds for the listener that the server has not accepted."""
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == self.port:
                return int(fields[4].split(":")[1], 16)
        pytest.fail(f"nothing listens on port {self.port}")


@pytest.fixture
def connected(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Server, socket.socket]]:
    """A server and a client connection it has accepted and read the start of a request on."""
    server = Server(tmp_path, request.param)
    client = socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT_SECONDS)
    client.sendall(b"GET / HTTP/1.1\r\nHost: lab\r\n")
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while server.accept_queue() > 0:
        assert time.monotonic() < deadline, "the server never accepted the connection"
        time.sleep(0.01)
    yield server, client
    client.close()
    if server.process.poll() is None:
        server.process.kill()
    server.process.wait()


def answer(client: socket.socket) -> bytes:
    """Everything the server sends until it closes; a reset counts as what came before it."""
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := client.recv(65536):
            received += chunk
    return received


@pytest.mark.parametrize("connected", [DRAINING_PROTOCOL], indirect=True)
def test_a_request_that_arrives_during_the_stop_is_answered(
    connected: tuple[Server, socket.socket],
) -> None:
    server, client = connected
    server.process.send_signal(signal.SIGTERM)
    server.wait_for_log("Waiting for connections to close")
    client.sendall(b"\r\n")
    received = answer(client)
    assert received.startswith(b"HTTP/1.1 200 OK\r\n"), received
    assert b"connection: close" in received.lower()
    assert received.endswith(b"ok")
    assert server.process.wait(timeout=TIMEOUT_SECONDS) == STOPPED


@pytest.mark.parametrize("connected", ["httptools"], indirect=True)
def test_uvicorns_own_protocol_cuts_that_request(connected: tuple[Server, socket.socket]) -> None:
    """Why the units use the draining protocol: stock Uvicorn closes the connection unanswered."""
    server, client = connected
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=TIMEOUT_SECONDS) == STOPPED
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        client.sendall(b"\r\n")
    assert answer(client) == b""


@pytest.mark.parametrize("connected", [DRAINING_PROTOCOL], indirect=True)
def test_a_connection_that_sends_no_request_is_closed_and_the_server_exits(
    connected: tuple[Server, socket.socket],
) -> None:
    server, client = connected
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=TIMEOUT_SECONDS) == STOPPED
    assert answer(client) == b""
