#!/usr/bin/env python3
"""Fairness probe: did every keep-alive connection get answers, and how evenly?

wrk cannot tell. A server that serves only as many keep-alive connections as it has processes
shows high req/s, tiny latency and zero errors while most of wrk's connections wait in the
listen backlog for the whole run. This probe opens C HTTP/1.1 keep-alive connections at once,
sends sequential GETs on each for D seconds, and counts the answers per connection.

Stdlib only (runs on the target with Debian 12's python3). Prints or writes one JSON object
(see benchreport/SCHEMA.md, "fairness"). Bounded: at most --connections sockets, every
connection slot stops at --duration (a slot still waiting for an answer is cancelled),
and the whole probe is abandoned at --duration + 10 s whatever happens.

Accounting is per connection slot: when the server closes a connection after an answer (no
keep-alive) or a request fails, the slot reconnects and keeps its count, so "answered" means
"this client got at least one answer", which is what a user behind that connection sees.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

MAX_CONNECTIONS = 10000
HARD_TIMEOUT_GRACE_S = 5.0
USER_AGENT = "benchreport-fairness-probe/1"


@dataclass
class SlotStats:
    """What one client connection slot saw."""

    answers: int = 0
    non_2xx: int = 0
    opened: bool = False
    reconnects: int = 0
    errors: dict[str, int] = field(
        default_factory=lambda: {"connect": 0, "read": 0, "timeout": 0, "closed": 0}
    )


class ProbeError(Exception):
    """Bad arguments or a URL this probe cannot use."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    path: str
    host_header: str


def parse_url(url: str) -> Target:
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise ProbeError(f"--url must be an http:// URL, got {url!r} (https is not supported)")
    if not parts.hostname:
        raise ProbeError(f"--url has no host: {url!r}")
    port = parts.port or 80
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    host_header = parts.hostname if port == 80 else f"{parts.hostname}:{port}"
    return Target(host=parts.hostname, port=port, path=path, host_header=host_header)


class ConnectionClosedError(Exception):
    """The server closed the connection before a complete answer."""


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.x response; return (status, keep_alive)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        raise ConnectionClosedError from error
    lines = head.decode("latin-1").split("\r\n")
    status_parts = lines[0].split(" ", 2)
    if len(status_parts) < 2 or not status_parts[0].startswith("HTTP/"):
        raise ConnectionClosedError(f"bad status line {lines[0]!r}")
    status = int(status_parts[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    keep_alive = headers.get("connection", "").lower() != "close"
    if status_parts[0] == "HTTP/1.0" and headers.get("connection", "").lower() != "keep-alive":
        keep_alive = False
    try:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";", 1)[0].strip(), 16)
                await reader.readexactly(size + 2)  # chunk data and its CRLF
                if size == 0:
                    break
        elif "content-length" in headers:
            await reader.readexactly(int(headers["content-length"]))
        elif status in (204, 304) or 100 <= status < 200:
            pass
        else:
            await reader.read()  # body delimited by the connection closing
            keep_alive = False
    except asyncio.IncompleteReadError as error:
        raise ConnectionClosedError from error
    return status, keep_alive


async def run_slot(
    target: Target, slot: SlotStats, timeout_s: float, start: asyncio.Event, deadline: float
) -> None:
    """Keep one slot asking until the deadline. Every wait is bounded by asyncio.timeout and
    the loops check the deadline themselves: cancellation alone is not trusted to stop a slot
    (Python 3.11's wait_for can swallow a cancel that races with a completed read)."""
    request = (
        f"GET {target.path} HTTP/1.1\r\nHost: {target.host_header}\r\n"
        f"User-Agent: {USER_AGENT}\r\nAccept: */*\r\n\r\n"
    ).encode("latin-1")
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        try:
            async with asyncio.timeout(min(timeout_s, max(0.0, deadline - loop.time()))):
                reader, writer = await asyncio.open_connection(target.host, target.port)
        except (OSError, TimeoutError):
            if loop.time() >= deadline:
                break  # the window closed while connecting: not the server's failure
            slot.errors["connect"] += 1
            await asyncio.sleep(0.05)  # a refused connect must not spin the loop
            continue
        if slot.opened:
            slot.reconnects += 1
        slot.opened = True
        try:
            await start.wait()  # every slot connects first, then all start asking together
            while loop.time() < deadline:
                writer.write(request)
                await writer.drain()
                async with asyncio.timeout(timeout_s):
                    status, keep_alive = await read_response(reader)
                if loop.time() > deadline:
                    break  # answered after the window closed (e.g. freed by another slot's exit)
                slot.answers += 1
                if not 200 <= status < 300:
                    slot.non_2xx += 1
                if not keep_alive:
                    break
        except TimeoutError:
            slot.errors["timeout"] += 1
        except ConnectionClosedError:
            slot.errors["closed"] += 1
        except (OSError, ValueError):
            slot.errors["read"] += 1
        finally:
            writer.close()


def gini(values: list[int]) -> float:
    """Gini coefficient of non-negative counts: 0 = perfectly even, near 1 = one takes all."""
    total = sum(values)
    if not values or total == 0:
        return 0.0
    ordered = sorted(values)
    count = len(ordered)
    weighted = sum((index + 1) * value for index, value in enumerate(ordered))
    return (2 * weighted) / (count * total) - (count + 1) / count


def summarize(
    slots: list[SlotStats], url: str, duration_s: float, timeout_s: float, elapsed_s: float
) -> dict[str, object]:
    answers = [slot.answers for slot in slots]
    answered = sum(1 for count in answers if count > 0)
    mean = statistics.fmean(answers) if answers else 0.0
    stdev = statistics.pstdev(answers) if answers else 0.0
    errors = {"connect": 0, "read": 0, "timeout": 0, "closed": 0}
    for slot in slots:
        for kind, count in slot.errors.items():
            errors[kind] += count
    return {
        "format": "fairness_probe/1",
        "url": url,
        "connections": len(slots),
        "opened": sum(1 for slot in slots if slot.opened),
        "answered_connections": answered,
        "answered_fraction": answered / len(slots) if slots else 0.0,
        "answers": {
            "total": sum(answers),
            "min": min(answers) if answers else 0,
            "p50": statistics.median_low(answers) if answers else 0,
            "max": max(answers) if answers else 0,
            "mean": round(mean, 3),
            "cv": round(stdev / mean, 4) if mean > 0 else None,
            "gini": round(gini(answers), 4),
        },
        "non_2xx": sum(slot.non_2xx for slot in slots),
        "reconnects": sum(slot.reconnects for slot in slots),
        "errors": errors,
        "duration_s": duration_s,
        "timeout_s": timeout_s,
        "elapsed_s": round(elapsed_s, 3),
    }


async def probe(
    url: str, connections: int, duration_s: float, timeout_s: float
) -> dict[str, object]:
    target = parse_url(url)
    slots = [SlotStats() for _ in range(connections)]
    start = asyncio.Event()
    loop = asyncio.get_running_loop()
    began = loop.time()
    deadline = began + duration_s
    tasks = [
        asyncio.create_task(run_slot(target, slot, timeout_s, start, deadline)) for slot in slots
    ]
    # Release the requests once every slot is connected (or after a bounded wait).
    connect_deadline = began + min(timeout_s, duration_s / 2)
    while loop.time() < connect_deadline and not all(slot.opened for slot in slots):
        await asyncio.sleep(0.01)
    start.set()
    # Slots stop by themselves at the deadline; a slot still waiting for an answer then is
    # cancelled (its request stays unanswered, which is the point of the probe).
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - loop.time()))
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=HARD_TIMEOUT_GRACE_S)
    return summarize(slots, url, duration_s, timeout_s, loop.time() - began)


def ensure_file_limit(connections: int) -> None:
    """Raise the soft open-files limit if the connections need it: running out of descriptors
    would show up as connect errors and be blamed on the server."""
    needed = connections + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise ProbeError(
                f"--connections {connections} needs {needed} open files, the hard limit is {hard}"
            )
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def run_probe(url: str, connections: int, duration_s: float, timeout_s: float) -> dict[str, object]:
    """Run the probe with its hard time limit; importable by run_load.py."""
    if not 1 <= connections <= MAX_CONNECTIONS:
        raise ProbeError(f"--connections must be 1..{MAX_CONNECTIONS}, got {connections}")
    if not math.isfinite(duration_s) or duration_s <= 0:
        raise ProbeError(f"--duration must be > 0 seconds, got {duration_s}")
    if not math.isfinite(timeout_s) or timeout_s <= 0:
        raise ProbeError(f"--timeout must be > 0 seconds, got {timeout_s}")
    parse_url(url)
    ensure_file_limit(connections)

    async def bounded() -> dict[str, object]:
        async with asyncio.timeout(duration_s + 2 * HARD_TIMEOUT_GRACE_S):
            return await probe(url, connections, duration_s, timeout_s)

    return asyncio.run(bounded())


def write_json(document: dict[str, Any], path: str | None) -> None:
    """Print the document as indented JSON or, given a path, write it there atomically (a
    reader never sees half a file) and world-readable. The other target scripts use this one:
    this script is the one copied alone (by the molecule tests), so it imports none of theirs."""
    text = json.dumps(document, indent=2) + "\n"
    if not path:
        sys.stdout.write(text)
        return
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=directory, delete=False, suffix=".tmp"
    ) as handle:
        handle.write(text)
    os.chmod(handle.name, 0o644)  # NamedTemporaryFile creates 0600
    os.replace(handle.name, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Open C keep-alive connections, send sequential GETs on each for D seconds, "
        "report how many connections got answers (JSON)."
    )
    parser.add_argument("--url", required=True, help="http://HOST:PORT/PATH to GET")
    parser.add_argument("--connections", type=int, default=200, help="connection slots (200)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of requests (5)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        help="seconds one connect or answer may take before it counts as a timeout and the "
        "slot reconnects (10); a value >= --duration lets a starved slot wait the whole window",
    )
    parser.add_argument("--output", help="write the JSON here instead of stdout")
    args = parser.parse_args(argv)
    try:
        result = run_probe(args.url, args.connections, args.duration, args.timeout)
    except ProbeError as error:
        print(f"fairness_probe: {error}", file=sys.stderr)
        return 2
    except TimeoutError:
        print("fairness_probe: hard time limit reached; no result", file=sys.stderr)
        return 3
    write_json(result, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
