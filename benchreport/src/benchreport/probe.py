#!/usr/bin/env python3
"""Load probe: count every failed request while an operation (a redeploy, a server switch, a
rollback, a kill -9) runs beside it.

C clients each hold one HTTP/1.1 keep-alive connection and send GETs back to back (closed
loop) until --duration elapses, --stop-file appears or SIGTERM/SIGINT arrives; requests in
flight then finish and one JSON object is written (--output, or stdout), with a one-line
summary on stderr. Exit 0 whatever failed (the caller asserts); 2 on bad arguments.

A failure is what a user's HTTP client would have reported: refused, reset, timeout,
non_2xx, other. A request sent on a reused keep-alive connection that the server had already
closed (EOF or reset before any byte of the answer) is retried once on a new connection, as
RFC 9112 section 9.3.1 allows for idempotent requests and as curl, Go's net/http and urllib3
do: it is counted in stale_retries, not as a failure; if the retry fails, its failure counts.

Standard library only and one file: the tests copy it into a Debian 12 container and run it
with the system python3. It is also ``python -m benchreport probe``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import json
import math
import os
import signal
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

USER_AGENT = "benchreport-probe/1"
MIN_CLIENTS, MAX_CLIENTS = 1, 64
# Requests per second per client when paced (0: closed loop, as fast as answers come).
MAX_RATE = 1000.0
# Long enough to watch the longest operation the tests run under it (a 15-minute playbook).
MIN_DURATION_S, MAX_DURATION_S = 1.0, 1800.0
MIN_TIMEOUT_S, MAX_TIMEOUT_S = 0.05, 60.0
DEFAULT_TIMEOUT_S = 5.0
STOP_FILE_POLL_S = 0.05
# After a failure a client waits this long before its next request: a server that refuses
# connections must not turn the probe into a spin loop. It is the gaps' resolution too.
FAILURE_PAUSE_S = 0.02
FAILURE_SAMPLE_SIZE = 20
RECV_SIZE = 65536
MAX_HEAD_BYTES = 65536
MAX_BODY_BYTES = 64 * 1024 * 1024
# Latencies go into buckets 1 % wide on a log scale (HdrHistogram's idea): memory stays
# bounded on a run of any length at any rate, and the percentiles are within 1 % of the exact
# ones.
HISTOGRAM_RATIO = 1.01
HISTOGRAM_FLOOR_S = 1e-6
FAILURE_KINDS = ("refused", "reset", "timeout", "non_2xx", "other")
MISSING_LABEL = "(missing)"
HEX_DIGITS = b"0123456789abcdefABCDEF"
EXIT_USAGE = 2


class FailureError(Exception):
    """A request failed; ``kind`` is one of FAILURE_KINDS."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


class StaleConnectionError(Exception):
    """A reused keep-alive connection ended before any byte of the answer: retry once."""


class EndOfStreamError(Exception):
    """The server closed the connection (EOF) while an answer was awaited."""


class ProtocolError(Exception):
    """The answer is not HTTP/1.x as this probe reads it."""


@dataclass(frozen=True)
class Target:
    url: str
    host: str
    port: int
    request: bytes


def parse_url(url: str) -> Target:
    """The URL's host, port and the request bytes; ValueError names what is wrong."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise ValueError(f"--url must be an http:// URL, got {url!r}")
    try:
        port = parts.port or 80
    except ValueError as error:
        raise ValueError(f"--url has a bad port: {url!r} ({error})") from None
    host = parts.hostname
    if not host:
        raise ValueError(f"--url has no host: {url!r}")
    host_header = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
    if port != 80:
        host_header += f":{port}"
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    if not path.isascii() or any(character in path for character in " \t\r\n"):
        raise ValueError(f"--url path must be ASCII without spaces (percent-encode): {url!r}")
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host_header}\r\n"
        f"User-Agent: {USER_AGENT}\r\nAccept: */*\r\n\r\n"
    ).encode("ascii")
    return Target(url=url, host=host, port=port, request=request)


@dataclass(frozen=True)
class Options:
    target: Target
    clients: int
    rate: float
    duration_s: float
    timeout_s: float
    stop_file: Path | None
    ready_file: Path | None
    output: Path | None
    count_header: str | None
    count_json_key: str | None


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-case names; a repeated header's values joined by ", "
    body: bytes
    keep_alive: bool


@dataclass
class LatencyHistogram:
    buckets: Counter[int] = field(default_factory=Counter)
    count: int = 0
    max_s: float = 0.0

    def add(self, seconds: float) -> None:
        ratio = max(seconds, HISTOGRAM_FLOOR_S) / HISTOGRAM_FLOOR_S
        self.buckets[math.ceil(math.log(ratio, HISTOGRAM_RATIO))] += 1
        self.count += 1
        self.max_s = max(self.max_s, seconds)

    def percentile(self, percent: float) -> float | None:
        """Nearest rank; a bucket's upper edge, which is at most 1 % above the exact value."""
        if not self.count:
            return None
        rank = max(1, math.ceil(percent / 100 * self.count))
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                return min(HISTOGRAM_FLOOR_S * HISTOGRAM_RATIO**index, self.max_s)
        return self.max_s


@dataclass
class ProbeStats:
    started: float  # time.monotonic() when the clients start
    requests: int = 0
    ok: int = 0
    failed_by_kind: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAILURE_KINDS, 0))
    non_2xx_statuses: Counter[str] = field(default_factory=Counter)
    stale_retries: int = 0
    connections_opened: int = 0
    server_closes: int = 0
    last_success_at_s: float = 0.0
    longest_gap_s: float = 0.0
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    first_failure_at_s: float | None = None
    last_failure_at_s: float | None = None
    failures: list[dict[str, object]] = field(default_factory=list)
    answers_by: dict[str, Counter[str]] = field(default_factory=dict)

    def now_s(self) -> float:
        return time.monotonic() - self.started

    def record_success(self, latency_s: float, labels: dict[str, str]) -> None:
        self.ok += 1
        at_s = self.now_s()
        # One event loop: successes are recorded in time order, across all clients.
        self.longest_gap_s = max(self.longest_gap_s, at_s - self.last_success_at_s)
        self.last_success_at_s = at_s
        self.latency.add(latency_s)
        for name, value in labels.items():
            self.answers_by.setdefault(name, Counter())[value] += 1

    def record_failure(self, failure: FailureError) -> None:
        at_s = self.now_s()
        self.failed_by_kind[failure.kind] += 1
        if self.first_failure_at_s is None:
            self.first_failure_at_s = at_s
        self.last_failure_at_s = at_s
        if len(self.failures) < FAILURE_SAMPLE_SIZE:
            self.failures.append(
                {"at_s": round(at_s, 6), "kind": failure.kind, "detail": failure.detail}
            )


class Connection:
    """One client socket and the bytes read from it but not yet parsed."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()
        self.received = 0  # bytes of the current answer received so far
        self.answers = 0  # complete answers read on it: 0 means a new connection

    def close(self) -> None:
        self.sock.close()

    async def fill(self) -> None:
        data = await asyncio.get_running_loop().sock_recv(self.sock, RECV_SIZE)
        if not data:
            raise EndOfStreamError
        self.buffer += data
        self.received += len(data)

    async def read_until(self, marker: bytes, limit: int) -> bytes:
        start = 0
        while (index := self.buffer.find(marker, start)) < 0:
            if len(self.buffer) > limit:
                raise ProtocolError(f"no {marker!r} within {limit} bytes")
            start = max(0, len(self.buffer) - len(marker) + 1)
            await self.fill()
        return self.take(index + len(marker))

    async def read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            await self.fill()
        return self.take(size)

    async def read_to_end(self) -> bytes:
        with contextlib.suppress(EndOfStreamError):
            while len(self.buffer) <= MAX_BODY_BYTES:
                await self.fill()
        if len(self.buffer) > MAX_BODY_BYTES:
            raise ProtocolError(f"body longer than {MAX_BODY_BYTES} bytes")
        return self.take(len(self.buffer))

    def take(self, size: int) -> bytes:
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data


def parse_head(head: bytes) -> tuple[str, int, dict[str, str]]:
    """(version, status, headers) of a status line and header block ending in CRLF CRLF."""
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    status_text = rest[:3]
    if not version.startswith("HTTP/1.") or not (status_text.isdigit() and len(status_text) == 3):
        raise ProtocolError(f"bad status line {status_line[:80]!r}")
    headers: dict[str, str] = {}
    for line in header_lines:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise ProtocolError(f"bad header line {line[:80]!r}")
        key, value = name.strip().lower(), value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return version, int(status_text), headers


def content_length(value: str) -> int:
    # A repeated header arrives joined ("12, 12"): valid only when every copy agrees.
    lengths = {text.strip() for text in value.split(",")}
    if len(lengths) != 1 or not (length := lengths.pop()).isdigit():
        raise ProtocolError(f"bad Content-Length {value!r}")
    if int(length) > MAX_BODY_BYTES:
        raise ProtocolError(f"Content-Length {length} over {MAX_BODY_BYTES} bytes")
    return int(length)


async def read_chunked(connection: Connection) -> bytes:
    body = bytearray()
    while True:
        size_line = await connection.read_until(b"\r\n", MAX_HEAD_BYTES)
        size_text = size_line[:-2].split(b";", 1)[0].strip()
        if not size_text or size_text.strip(HEX_DIGITS):
            raise ProtocolError(f"bad chunk size line {size_line[:40]!r}")
        size = int(size_text, 16)
        if size == 0:
            break
        if len(body) + size > MAX_BODY_BYTES:
            raise ProtocolError(f"chunked body longer than {MAX_BODY_BYTES} bytes")
        body += await connection.read_exactly(size)
        if await connection.read_exactly(2) != b"\r\n":
            raise ProtocolError("chunk data not followed by CRLF")
    while await connection.read_until(b"\r\n", MAX_HEAD_BYTES) != b"\r\n":
        pass  # trailer fields, ignored
    return bytes(body)


async def read_response(connection: Connection) -> Response:
    """One answer (RFC 9112 section 6.3 for its length); interim 1xx answers are skipped."""
    while True:
        head = await connection.read_until(b"\r\n\r\n", MAX_HEAD_BYTES)
        version, status, headers = parse_head(head)
        if not 100 <= status < 200 or status == 101:
            break
    tokens = {token.strip().lower() for token in headers.get("connection", "").split(",")}
    # HTTP/1.0 keeps a connection open only when asked to; HTTP/1.1 unless told to close it.
    keep_alive = "keep-alive" in tokens if version == "HTTP/1.0" else "close" not in tokens
    transfer_coding = headers.get("transfer-encoding", "").split(",")[-1].strip().lower()
    if status in (101, 204, 304):
        body = b""
        keep_alive = keep_alive and status != 101
    elif transfer_coding == "chunked":
        body = await read_chunked(connection)
    elif "transfer-encoding" not in headers and "content-length" in headers:
        body = await connection.read_exactly(content_length(headers["content-length"]))
    else:  # no length: the body ends when the server closes the connection
        body = await connection.read_to_end()
        keep_alive = False
    return Response(status=status, headers=headers, body=body, keep_alive=keep_alive)


def error_name(error: OSError) -> str:
    return errno.errorcode.get(error.errno or 0, type(error).__name__)


LOST_CONNECTION = (EndOfStreamError, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


def classify(
    error: Exception, phase: str, reused: bool, received: int, timeout_s: float
) -> FailureError | StaleConnectionError:
    """What a failed attempt counts as. ``phase`` is "connect" or "answer"."""
    if isinstance(error, LOST_CONNECTION):
        return classify_lost(error, reused, received)
    if isinstance(error, TimeoutError):
        kind = "timeout"
        detail = f"no complete answer within {timeout_s:g} s ({phase}, {received} bytes)"
    elif isinstance(error, ConnectionRefusedError):
        kind, detail = "refused", f"ECONNREFUSED ({phase})"
    elif isinstance(error, ProtocolError):
        kind, detail = "other", f"bad answer: {error}"
    elif isinstance(error, OSError):
        kind, detail = "other", f"{error_name(error)} ({phase}): {error.strerror or error}"
    else:
        kind, detail = "other", f"{type(error).__name__} ({phase}): {error}"
    return FailureError(kind, detail)


def classify_lost(
    error: Exception, reused: bool, received: int
) -> FailureError | StaleConnectionError:
    """EOF or a reset: stale if a reused connection ended before any byte of the answer
    (the server had closed it while idle: retry), else a reset."""
    if reused and received == 0:
        return StaleConnectionError()
    what = error_name(error) if isinstance(error, OSError) else "EOF"
    if received:
        return FailureError("reset", f"{what} after {received} bytes of the answer")
    return FailureError("reset", f"{what} before any byte of the answer on a new connection")


def json_label(body: bytes, key: str) -> str:
    try:
        document = json.loads(body)
    except ValueError:
        return MISSING_LABEL
    if not isinstance(document, dict) or key not in document:
        return MISSING_LABEL
    value = document[key]
    return value if isinstance(value, str) else json.dumps(value)


def write_atomically(path: Path, text: str) -> None:
    """Readers never see half a file: write beside it, then rename over it."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


class Probe:
    def __init__(self, options: Options, addresses: list[tuple[int, tuple[object, ...]]]) -> None:
        self.options = options
        self.addresses = addresses  # (family, sockaddr) in getaddrinfo's order
        self.stats = ProbeStats(started=time.monotonic())
        self.stopping = asyncio.Event()
        self.stopped_by = ""
        self.ready_clients = 0
        self.ready_at_s: float | None = None

    def stop(self, reason: str) -> None:
        if not self.stopping.is_set():
            self.stopped_by = reason
            self.stopping.set()

    async def open_connection(self) -> Connection:
        """A connected socket to the first address that accepts, like create_connection."""
        loop = asyncio.get_running_loop()
        errors: list[OSError] = []
        for family, address in self.addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setblocking(False)
            try:
                await loop.sock_connect(sock, address)
            except OSError as error:
                sock.close()
                errors.append(error)
                continue
            except BaseException:  # cancelled by the timeout: do not leak the socket
                sock.close()
                raise
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.stats.connections_opened += 1
            return Connection(sock)
        raise errors[0]

    def client_ready(self) -> None:
        self.ready_clients += 1
        if self.ready_clients == self.options.clients:
            self.ready_at_s = self.stats.now_s()
            if self.options.ready_file is not None:
                ready = {"ready_at_s": round(self.ready_at_s, 6), "clients": self.ready_clients}
                write_atomically(self.options.ready_file, json.dumps(ready) + "\n")

    def labels(self, response: Response) -> dict[str, str]:
        labels: dict[str, str] = {}
        if self.options.count_header is not None:
            name = self.options.count_header.lower()
            labels[f"header:{name}"] = response.headers.get(name, MISSING_LABEL)
        if self.options.count_json_key is not None:
            key = self.options.count_json_key
            labels[f"json:{key}"] = json_label(response.body, key)
        return labels

    async def watch(self) -> None:
        """Stop at the deadline or when the stop file appears (signals call stop directly)."""
        deadline = self.stats.started + self.options.duration_s
        while not self.stopping.is_set():
            if self.options.stop_file is not None and self.options.stop_file.exists():
                self.stop("stop_file")
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop("duration")
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(STOP_FILE_POLL_S, remaining)):
                    await self.stopping.wait()

    async def run(self) -> dict[str, object]:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stop, f"signal {signum.name}")
        # The clock starts here, in the running loop, not when the probe was built.
        self.stats = ProbeStats(started=time.monotonic())
        watcher = asyncio.create_task(self.watch())
        clients = [Client(self) for _ in range(self.options.clients)]
        # Clients are never cancelled: each finishes its request in flight, bounded by
        # --timeout per attempt, so every request sent is counted one way or the other.
        await asyncio.gather(*(client.run() for client in clients))
        ended_s = self.stats.now_s()
        await watcher
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        return self.result(ended_s)

    def result(self, ended_s: float) -> dict[str, object]:
        stats = self.stats
        options = self.options

        def seconds(value: float | None) -> float | None:
            return None if value is None else round(value, 6)

        return {
            "format": "benchreport_probe/1",
            "url": options.target.url,
            "clients": options.clients,
            "rate_per_client": options.rate,
            "timeout_s": options.timeout_s,
            "duration_limit_s": options.duration_s,
            "stopped_by": self.stopped_by,
            "duration_s": seconds(ended_s),
            "ready_at_s": seconds(self.ready_at_s),
            "requests": stats.requests,
            "ok": stats.ok,
            "failed": sum(stats.failed_by_kind.values()),
            "failed_by_kind": stats.failed_by_kind,
            "non_2xx_statuses": dict(sorted(stats.non_2xx_statuses.items())),
            "stale_retries": stats.stale_retries,
            "connections_opened": stats.connections_opened,
            "server_closes": stats.server_closes,
            "longest_gap_s": seconds(max(stats.longest_gap_s, ended_s - stats.last_success_at_s)),
            "max_latency_s": seconds(stats.latency.max_s if stats.latency.count else None),
            "p50_latency_s": seconds(stats.latency.percentile(50)),
            "p99_latency_s": seconds(stats.latency.percentile(99)),
            "first_failure_at_s": seconds(stats.first_failure_at_s),
            "last_failure_at_s": seconds(stats.last_failure_at_s),
            "failures": stats.failures,
            "answers_by": {
                name: dict(counts.most_common()) for name, counts in stats.answers_by.items()
            },
        }


class Client:
    """One client: one keep-alive connection, one request at a time, back to back (closed
    loop) or, with a rate, each request at its scheduled time (start + n / rate; a late one is
    sent at once, without catching up), so a light load stays light while the server stalls."""

    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        self.connection: Connection | None = None  # kept only after a keep-alive answer
        self.ready = False

    def drop_connection(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    async def run(self) -> None:
        probe, stats = self.probe, self.probe.stats
        interval = 1 / probe.options.rate if probe.options.rate > 0 else 0.0
        next_send = time.monotonic()
        try:
            while not probe.stopping.is_set():
                if interval:
                    next_send = max(next_send + interval, time.monotonic() - interval)
                    delay = next_send - time.monotonic()
                    if delay > 0:
                        try:
                            async with asyncio.timeout(delay):
                                await probe.stopping.wait()
                        except TimeoutError:
                            pass
                        if probe.stopping.is_set():
                            break
                stats.requests += 1
                started = time.monotonic()
                try:
                    response = await self.request()
                except FailureError as failure:
                    stats.record_failure(failure)
                    await asyncio.sleep(FAILURE_PAUSE_S)
                    continue
                if 200 <= response.status < 300:
                    stats.record_success(time.monotonic() - started, probe.labels(response))
                    if not self.ready:
                        self.ready = True
                        probe.client_ready()
                else:
                    stats.non_2xx_statuses[str(response.status)] += 1
                    stats.record_failure(FailureError("non_2xx", f"status {response.status}"))
                    await asyncio.sleep(FAILURE_PAUSE_S)
        finally:
            self.drop_connection()

    async def request(self) -> Response:
        try:
            return await self.attempt()
        except StaleConnectionError:
            self.probe.stats.stale_retries += 1
        return await self.attempt()  # on a new connection, so never stale

    async def attempt(self) -> Response:
        """One try on the kept connection or a new one; raises FailureError or, on a reused
        connection closed before any byte of the answer, StaleConnectionError."""
        probe = self.probe
        reused = self.connection is not None
        phase = "connect"
        try:
            async with asyncio.timeout(probe.options.timeout_s):
                if self.connection is None:
                    self.connection = await probe.open_connection()
                phase = "answer"
                connection = self.connection
                connection.received = len(connection.buffer)
                await asyncio.get_running_loop().sock_sendall(
                    connection.sock, probe.options.target.request
                )
                response = await read_response(connection)
        except Exception as error:  # every error is counted, none may end the client
            received = self.connection.received if self.connection is not None else 0
            self.drop_connection()
            raise classify(error, phase, reused, received, probe.options.timeout_s) from None
        if response.keep_alive:
            connection.answers += 1
        else:  # Connection: close, or a body ended by the close: reconnect, no failure
            probe.stats.server_closes += 1
            self.drop_connection()
        return response


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Closed-loop HTTP/1.1 keep-alive load that counts every failed request; "
        "run it beside a redeploy, a server switch, a rollback or a kill -9.",
    )
    parser.add_argument("--url", required=True, help="http://HOST:PORT/PATH (IPv6: [::1])")
    parser.add_argument("--clients", type=int, default=8, help=f"{MIN_CLIENTS}..{MAX_CLIENTS} (8)")
    parser.add_argument(
        "--duration",
        type=float,
        default=60.0,
        help=f"seconds, {MIN_DURATION_S:g}..{MAX_DURATION_S:g} (60)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help=f"requests per second per client, 0..{MAX_RATE:g} (0: closed loop, the default)",
    )
    parser.add_argument("--stop-file", type=Path, help="stop when this path exists")
    parser.add_argument(
        "--ready-file", type=Path, help="written once every client has had an answer"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"seconds per attempt, {MIN_TIMEOUT_S:g}..{MAX_TIMEOUT_S:g} ({DEFAULT_TIMEOUT_S:g})",
    )
    parser.add_argument("--output", type=Path, help="result JSON file (default: stdout)")
    parser.add_argument("--count-header", metavar="NAME", help="count answers per header value")
    parser.add_argument(
        "--count-json-key", metavar="KEY", help="count answers per top-level JSON body value"
    )
    return parser


def parse_options(argv: list[str] | None, prog: str) -> Options:
    """Options, or argparse's usage error (exit 2) naming the bad value and the valid ones."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if not MIN_CLIENTS <= args.clients <= MAX_CLIENTS:
        parser.error(f"--clients must be {MIN_CLIENTS}..{MAX_CLIENTS}, got {args.clients}")
    for option, value, low, high, unit in (
        ("--duration", args.duration, MIN_DURATION_S, MAX_DURATION_S, "seconds"),
        ("--timeout", args.timeout, MIN_TIMEOUT_S, MAX_TIMEOUT_S, "seconds"),
        ("--rate", args.rate, 0.0, MAX_RATE, "requests per second"),
    ):
        if not (math.isfinite(value) and low <= value <= high):
            parser.error(f"{option} must be {low:g}..{high:g} {unit}, got {value:g}")
    try:
        target = parse_url(args.url)
    except ValueError as error:
        parser.error(str(error))
    for option, path in (("--output", args.output), ("--ready-file", args.ready_file)):
        if path is not None and not path.parent.is_dir():
            parser.error(f"{option} {path}: directory {path.parent} does not exist")
    for option, name in (
        ("--count-header", args.count_header),
        ("--count-json-key", args.count_json_key),
    ):
        if name is not None and not name:
            parser.error(f"{option} must not be empty")
    return Options(
        target=target,
        clients=args.clients,
        rate=args.rate,
        duration_s=args.duration,
        timeout_s=args.timeout,
        stop_file=args.stop_file,
        ready_file=args.ready_file,
        output=args.output,
        count_header=args.count_header,
        count_json_key=args.count_json_key,
    )


def resolve(target: Target) -> list[tuple[int, tuple[object, ...]]]:
    """The host's addresses, resolved once: a probe measures the server, not the resolver."""
    found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    return [(family, address) for family, _, _, _, address in found]


def summary_line(result: dict[str, object]) -> str:
    def seconds(key: str) -> str:
        value = result[key]
        return f"{value:.3f} s" if isinstance(value, float) else "-"

    kinds = result["failed_by_kind"]
    assert isinstance(kinds, dict)
    return (
        f"probe: {result['requests']} requests in {seconds('duration_s')}: "
        f"{result['ok']} ok, {result['failed']} failed "
        f"({', '.join(f'{kind} {count}' for kind, count in kinds.items())}), "
        f"{result['stale_retries']} stale keep-alive retries; longest gap "
        f"{seconds('longest_gap_s')}, p99 {seconds('p99_latency_s')}; "
        f"stopped by {result['stopped_by']}"
    )


def main(argv: list[str] | None = None, prog: str = "probe.py") -> int:
    options = parse_options(argv, prog)
    try:
        addresses = resolve(options.target)
    except OSError as error:
        print(f"{prog}: error: cannot resolve {options.target.host!r}: {error}", file=sys.stderr)
        return EXIT_USAGE
    result = asyncio.run(Probe(options, addresses).run())
    text = json.dumps(result, indent=2) + "\n"
    if options.output is None:
        sys.stdout.write(text)
    else:
        write_atomically(options.output, text)
    print(summary_line(result), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
