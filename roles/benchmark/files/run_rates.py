#!/usr/bin/env python3
"""Fixed-rate (open-loop) runs with open_loop, the compiled open_loop.c of this folder.

Two subcommands:
- ``points``: run the client once per offered rate, ascending, against one config and
  endpoint, and write ONE rates file (benchreport/SCHEMA.md, "Rates file"). Points above the
  client's own ceiling are not run (the client, not the server, would be measured); once the
  server answers fewer than 90 % of the offered rate it is saturated, and the higher points
  are not run either (they would only take time to say the same). When no point is held,
  the lowest rate is halved, up to ``--descend`` times, until one is: a server whose knee lies
  below every planned rate still gets a capacity (reason ``descent``).
- ``ceiling``: start the client's trivial server (``open_loop --serve 0``) on 127.0.0.1 and
  ramp the rate until a point is not held; the highest held rate is what the client can
  measure on this host (client_ceiling/1).

Stdlib only (runs on the load host with Debian 12's python3, as root). Imports run_load.py
for the labels, so that a rates file's labels are exactly a run file's.

Exit codes: 0 file written; 2 bad arguments or no client; 3 the client failed or printed no
JSON line (no file is written).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import fairness_probe
import run_load
from run_load import RunError

REASONS = ("common", "knee", "given")
# The reason of the rates run_points adds below the lowest when none was held.
DESCENT = "descent"
# Every point has at least this many requests, so that its p99 is not one or two samples.
MIN_REQUESTS_PER_POINT = 200
# A server answering less than this fraction of the offered rate is saturated.
SATURATED_FRACTION = 0.9
# The client runs at most duration + 3 x timeout (connecting, window, drain, last answers);
# it is killed this much later.
CLIENT_GRACE_S = 30.0
CLIENT_MAX_RATE = 10_000_000.0  # open_loop.c's MAX_RATE
# The ceiling ramp, and what "held" means there: the client's own noise must stay far below
# any SLO a sweep would use.
CEILING_RATES = (1000.0, 2500.0, 5000.0, 10000.0, 20000.0, 40000.0, 80000.0, 160000.0)
CEILING_P99_MS = 10.0
CEILING_ATTEMPTS = 2
SERVE_START_TIMEOUT_S = 10.0
SKIP_ABOVE_CEILING = "above the client's ceiling"
SKIP_SATURATED = "the server could not keep up at a lower rate"


@dataclass(frozen=True)
class PointSpec:
    offered_rps: float
    reason: str


def positive_number(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def point_spec(text: str) -> PointSpec:
    """argparse type of --point: RATE:REASON, e.g. 4500:knee."""
    rate_text, _, reason = text.partition(":")
    if reason not in REASONS:
        raise argparse.ArgumentTypeError(
            f"expected RATE:REASON with REASON one of {', '.join(REASONS)}; got {text!r}"
        )
    try:
        rate = positive_number(rate_text)
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"RATE must be a number > 0, got {text!r}") from error
    if rate > CLIENT_MAX_RATE:
        raise argparse.ArgumentTypeError(f"RATE above {CLIENT_MAX_RATE:g} req/s: {text!r}")
    return PointSpec(rate, reason)


def point_duration(rate: float, minimum_s: float) -> float:
    """--duration, or longer when the rate is low: at least MIN_REQUESTS_PER_POINT requests
    (rounded up to the millisecond, which keeps the count)."""
    return max(minimum_s, math.ceil(MIN_REQUESTS_PER_POINT / rate * 1000) / 1000)


def client_command(args: argparse.Namespace, url: str, rate: float, duration_s: float) -> list[str]:
    return [
        args.client,
        *("--url", url, "--rate", repr(rate), "--duration", repr(duration_s)),
        *("--connections", str(args.connections), "--timeout", repr(args.timeout)),
    ]


def run_client(command: list[str], duration_s: float, timeout_s: float) -> dict[str, Any]:
    """Run open_loop once; return its JSON line."""
    limit_s = duration_s + 3 * timeout_s + CLIENT_GRACE_S
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=limit_s, check=False
        )
    except OSError as error:  # the client vanished or lost its execute bit since the check
        raise RunError(f"cannot run {command[0]}: {error}", 3) from error
    except subprocess.TimeoutExpired as error:
        raise RunError(
            f"{command[0]} outlived its run by {CLIENT_GRACE_S:.0f} s: killed", 3
        ) from error
    if completed.returncode != 0:
        detail = completed.stderr.strip() or "no output"
        raise RunError(f"{' '.join(command)} exited with {completed.returncode}: {detail}", 3)
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    if len(lines) != 1:
        raise RunError(
            f"{command[0]} printed {len(lines)} lines on stdout, expected 1 JSON line", 3
        )
    try:
        result = json.loads(lines[0])
    except json.JSONDecodeError as error:
        raise RunError(f"{command[0]}'s JSON line is malformed: {error}", 3) from error
    if not isinstance(result, dict) or "latency_us" not in result:
        raise RunError(f"{command[0]} printed JSON that is not a point: {lines[0][:200]}", 3)
    return result


def is_held(point: dict[str, Any], p99_limit_ms: float) -> bool:
    """The contract's "held": no error of any kind (unsent included), every scheduled request
    answered, and p99 from the due time within the limit."""
    p99_us = point["latency_us"]["p99"]
    return (
        not any(point["errors"].values())
        and point["completed"] == point["scheduled"]
        and p99_us is not None
        and p99_us <= p99_limit_ms * 1000
    )


def point_line(prefix: str, point: dict[str, Any], held: bool) -> str:
    p99_us = point["latency_us"]["p99"]
    p99_text = f"{p99_us / 1000:.1f} ms" if p99_us is not None else "n/a"
    return (
        f"{prefix}{point['offered_rps']:.0f} req/s offered, {point['achieved_rps']:.1f} achieved, "
        f"p99 {p99_text} from due, errors {sum(point['errors'].values())}, "
        f"{'held' if held else 'not held'}"
    )


def plan(
    specs: list[PointSpec], ceiling_rps: float | None
) -> tuple[list[PointSpec], list[dict[str, Any]]]:
    """Points to run, ascending, one per rate (the first reason given wins), and those above
    the client's ceiling, skipped."""
    by_rate: dict[float, PointSpec] = {}
    for spec in specs:
        by_rate.setdefault(spec.offered_rps, spec)
    ordered = sorted(by_rate.values(), key=lambda spec: spec.offered_rps)
    to_run = [s for s in ordered if ceiling_rps is None or s.offered_rps <= ceiling_rps]
    skipped = [skip_entry(s, SKIP_ABOVE_CEILING) for s in ordered if s not in to_run]
    return to_run, skipped


def skip_entry(spec: PointSpec, why: str) -> dict[str, Any]:
    return {"offered_rps": spec.offered_rps, "reason": spec.reason, "why": why}


def run_points(args: argparse.Namespace) -> dict[str, Any]:
    labels = run_load.run_labels(args)
    document: dict[str, Any] = {
        "schema_version": run_load.SCHEMA_VERSION,
        "kind": "rates",
        "labels": labels,
        "started_at": run_load.utc_now(),
    }
    to_run, skipped = plan(args.point, args.ceiling_rps)
    prefix = f"{labels['server']}/{labels['endpoint']} round {labels['round']}: "
    points: list[dict[str, Any]] = []
    for index, spec in enumerate(to_run):
        point = run_point(args, prefix, spec.offered_rps, spec.reason)
        points.append(point)
        if point["achieved_rps"] < SATURATED_FRACTION * spec.offered_rps:
            skipped += [skip_entry(later, SKIP_SATURATED) for later in to_run[index + 1 :]]
            break
    points = descend(args, prefix, points) + points
    for entry in skipped:
        print(f"{prefix}{entry['offered_rps']:.0f} req/s skipped: {entry['why']}", flush=True)
    document["finished_at"] = run_load.utc_now()
    document["slo_ms"] = args.slo_ms
    document["client"] = {
        "tool": "open_loop",
        "ceiling_rps": args.ceiling_rps,
        "url": args.url,
        "timeout_s": args.timeout,
    }
    document["points"] = points
    document["skipped"] = sorted(skipped, key=lambda entry: entry["offered_rps"])
    return document


def run_point(args: argparse.Namespace, prefix: str, rate: float, reason: str) -> dict[str, Any]:
    duration_s = point_duration(rate, args.duration)
    result = run_client(client_command(args, args.url, rate, duration_s), duration_s, args.timeout)
    point = {"offered_rps": rate, "reason": reason, **result}
    point["offered_rps"] = rate  # as asked, not as the client printed it
    print(point_line(prefix, point, is_held(point, args.slo_ms)), flush=True)
    return point


def descend(
    args: argparse.Namespace, prefix: str, points: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """When none of the points run was held, the lowest rate halved, up to args.descend times,
    until one is held: the points run, ascending (they all lie below the ones given)."""
    if not points or any(is_held(point, args.slo_ms) for point in points):
        return []
    lower: list[dict[str, Any]] = []
    rate = points[0]["offered_rps"]
    while len(lower) < args.descend:
        rate = round(rate / 2, 1)
        lower.append(run_point(args, prefix, rate, DESCENT))
        if is_held(lower[-1], args.slo_ms):
            break
    return lower[::-1]


def read_port_line(process: subprocess.Popen[bytes], timeout_s: float) -> int:
    """open_loop --serve prints 'PORT <n>' once it listens: wait on that line, not a sleep."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    buffer = b""
    while b"\n" not in buffer:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or process.poll() is not None:
            raise RunError(f"open_loop --serve did not start (exit code {process.poll()})", 3)
        ready, _, _ = select.select([process.stdout], [], [], remaining)
        if ready:
            chunk = os.read(process.stdout.fileno(), 64)
            if not chunk:
                raise RunError("open_loop --serve closed its stdout before listening", 3)
            buffer += chunk
    label, _, port = buffer.split(b"\n", 1)[0].decode().partition(" ")
    if label != "PORT" or not port.isdigit():
        raise RunError(f"open_loop --serve printed {buffer!r}, expected 'PORT <n>'", 3)
    return int(port)


def ceiling_attempts(args: argparse.Namespace, url: str, rate: float) -> list[dict[str, Any]]:
    """Up to CEILING_ATTEMPTS runs of one rate, until one holds: noise (another process taking
    the CPU for 20 ms) only ever lowers a ceiling, so one bad run must not set it."""
    attempts: list[dict[str, Any]] = []
    while len(attempts) < CEILING_ATTEMPTS:
        point = run_client(
            client_command(args, url, rate, args.duration), args.duration, args.timeout
        )
        point["held"] = is_held(point, CEILING_P99_MS)
        attempts.append(point)
        print(point_line("client ceiling: ", point, point["held"]), flush=True)
        if point["held"]:
            break
    return attempts


def run_ceiling(args: argparse.Namespace) -> dict[str, Any]:
    server = subprocess.Popen([args.client, "--serve", "0"], stdout=subprocess.PIPE)
    points: list[dict[str, Any]] = []
    try:
        url = f"http://127.0.0.1:{read_port_line(server, SERVE_START_TIMEOUT_S)}/"
        for rate in CEILING_RATES:
            points += ceiling_attempts(args, url, rate)
            if not points[-1]["held"]:
                break
    finally:
        server.terminate()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()
    held = [point["offered_rps"] for point in points if point["held"]]
    return {
        "format": "client_ceiling/1",
        "ceiling_rps": max(held) if held else None,
        "p99_limit_ms": CEILING_P99_MS,
        "points": points,
    }


def check_client(path: str) -> None:
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise RunError(
            f"open_loop client not found or not executable: {path!r} "
            "(gcc -O2 -o open_loop open_loop.c -lm builds it)"
        )


def add_client_arguments(parser: argparse.ArgumentParser, duration_s: float) -> None:
    parser.add_argument("--client", required=True, help="the compiled open_loop")
    parser.add_argument("--output", required=True, help="JSON file to write")
    parser.add_argument(
        "--duration",
        type=positive_number,
        default=duration_s,
        help=f"seconds per point ({duration_s:g})",
    )
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections (64)")
    parser.add_argument(
        "--timeout", type=positive_number, default=2.0, help="seconds per answer from its send (2)"
    )


def add_label_arguments(parser: argparse.ArgumentParser) -> None:
    """The labels, spelled as run_load.py spells them (the same fields come out)."""
    labels = parser.add_argument_group("labels (as run_load.py's)")
    labels.add_argument("--server", required=True, help="the server's catalog name, e.g. uwsgi")
    labels.add_argument("--interface", required=True, choices=run_load.INTERFACES)
    labels.add_argument("--proxy", type=run_load.proxy_name, help="proxy in front, e.g. caddy")
    labels.add_argument("--overrides", type=run_load.json_object, default={}, help="JSON ({})")
    labels.add_argument("--knobs", type=run_load.json_object, default={}, help="JSON ({})")
    run_load.add_database_argument(labels)
    labels.add_argument("--endpoint", required=True, help="endpoint name, e.g. ping")
    labels.add_argument("--round", type=int, required=True, help="round number, from 1")
    labels.add_argument(
        "--label", action="append", default=[], help="extra KEY=VALUE label (repeatable)"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    points = commands.add_parser("points", help="fixed-rate points against a server")
    add_client_arguments(points, 3.0)
    points.add_argument("--url", required=True, help="http://HOST:PORT/PATH to load")
    add_label_arguments(points)
    points.add_argument(
        "--slo-ms", type=positive_number, default=100.0, help="p99 objective, ms (100)"
    )
    points.add_argument(
        "--point",
        type=point_spec,
        action="append",
        required=True,
        help="RATE:REASON, REASON one of common, knee, given (repeatable)",
    )
    points.add_argument(
        "--descend",
        type=int,
        default=0,
        help="when no point is held, halve the lowest rate up to this many times (0)",
    )
    points.add_argument(
        "--ceiling-rps", type=positive_number, help="the client's ceiling: higher points skipped"
    )
    ceiling = commands.add_parser("ceiling", help="the client's own ceiling on this host")
    add_client_arguments(ceiling, 2.0)
    args = parser.parse_args(argv)
    if args.connections < 1:
        parser.error(f"--connections must be >= 1, got {args.connections}")
    if args.command == "points" and not 0 <= args.descend <= 10:
        parser.error(f"--descend must be 0 to 10, got {args.descend}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        check_client(args.client)
        document = run_points(args) if args.command == "points" else run_ceiling(args)
    except RunError as error:
        print(f"run_rates: {error}", file=sys.stderr)
        return error.exit_code
    fairness_probe.write_json(document, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
