"""Small HTTP/1.1 servers on 127.0.0.1 for the tests (stdlib only, runnable as a script).

Modes:
- ``fair``: asyncio, keep-alive, answers every connection concurrently.
- ``starving``: one thread, blocking; serves ONE keep-alive connection until the client closes
  it, then accepts the next. Other connections sit in the listen backlog and never get an
  answer, which is how a server with fewer processes than connections misleads wrk.
- ``errors``: like ``fair`` but every ``--error-every``-th request gets a 503.
- ``close``: like ``fair`` but answers with ``Connection: close`` and closes.
- ``chunked``: like ``fair`` but the body comes in chunks (``Transfer-Encoding: chunked``),
  split across two writes, so that a client must parse chunk sizes across reads.
- ``slow``: like ``fair`` but answers one request at a time, each after ``--service-ms`` (5):
  it holds a rate well below 1000 / service-ms req/s and falls behind above it.

Run ``python httpserver.py --mode fair`` and read the first stdout line, ``PORT <n>``: it is
printed once the socket listens, so a caller waits on it instead of sleeping.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import socket
import sys

BODY = b'{"status": "ok", "server": "benchreport-test"}'


def build_response(status: str, keep_alive: bool) -> bytes:
    connection = b"keep-alive" if keep_alive else b"close"
    return (
        b"HTTP/1.1 " + status.encode() + b"\r\n"
        b"Content-Type: application/json\r\n"
        b"Content-Length: " + str(len(BODY)).encode() + b"\r\n"
        b"Connection: " + connection + b"\r\n\r\n" + BODY
    )


OK_RESPONSE = build_response("200 OK", keep_alive=True)
ERROR_RESPONSE = build_response("503 Service Unavailable", keep_alive=True)
CLOSE_RESPONSE = build_response("200 OK", keep_alive=False)
CHUNKED_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    + f"{len(BODY[:10]):x}\r\n".encode()
    + BODY[:10]
)
CHUNKED_TAIL = b"\r\n" + f"{len(BODY[10:]):x}\r\n".encode() + BODY[10:] + b"\r\n0\r\n\r\n"


def bind_listener(port: int, backlog: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(backlog)
    return listener


def announce(listener: socket.socket) -> None:
    print(f"PORT {listener.getsockname()[1]}", flush=True)


async def serve_async(
    listener: socket.socket, mode: str, error_every: int, service_s: float
) -> None:
    counter = itertools.count(1)
    one_at_a_time = asyncio.Lock()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if mode == "chunked":
            # The answer's second write would wait for the client's delayed ACK (40 ms).
            writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                if mode == "close":
                    writer.write(CLOSE_RESPONSE)
                    await writer.drain()
                    break
                if mode == "chunked":
                    writer.write(CHUNKED_HEAD)
                    await writer.drain()  # two writes: the answer arrives in pieces
                    writer.write(CHUNKED_TAIL)
                    await writer.drain()
                    continue
                if mode == "slow":
                    async with one_at_a_time:
                        await asyncio.sleep(service_s)  # the service time itself
                failing = mode == "errors" and next(counter) % error_every == 0
                writer.write(ERROR_RESPONSE if failing else OK_RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, sock=listener)
    announce(listener)
    async with server:
        await server.serve_forever()


def serve_starving(listener: socket.socket) -> None:
    announce(listener)
    while True:
        connection, _ = listener.accept()
        with connection:
            buffer = b""
            while True:
                try:
                    chunk = connection.recv(65536)
                except ConnectionResetError:
                    chunk = b""
                if not chunk:
                    break  # the client closed: only now is the next connection accepted
                buffer += chunk
                while b"\r\n\r\n" in buffer:
                    _, buffer = buffer.split(b"\r\n\r\n", 1)
                    connection.sendall(OK_RESPONSE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mode", choices=["fair", "starving", "errors", "close", "chunked", "slow"], default="fair"
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--backlog", type=int, default=1024)
    parser.add_argument("--error-every", type=int, default=10)
    parser.add_argument("--service-ms", type=float, default=5.0, help="slow: ms per answer (5)")
    args = parser.parse_args(argv)
    listener = bind_listener(args.port, args.backlog)
    try:
        if args.mode == "starving":
            serve_starving(listener)
        else:
            asyncio.run(serve_async(listener, args.mode, args.error_every, args.service_ms / 1000))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
