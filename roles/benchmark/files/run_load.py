#!/usr/bin/env python3
"""One benchmark run: wrk under load, the server's resources sampled meanwhile, then the
fairness probe; everything written as ONE run JSON (benchreport/SCHEMA.md, "Run file").

Stdlib only (runs on the target with Debian 12's python3, as root). Needs wrk_json.lua,
sample_resources.py and fairness_probe.py in the same directory (the benchmark role copies
its whole files/ folder); run as a script, Python puts that directory first on sys.path,
which is how the two imports below find their siblings.

Order of one run:
0. with --expect-keys, the URL must answer 200 with a JSON object holding those keys (retried
   for --ready-timeout seconds: the server may have just restarted); with --warmup, an
   unrecorded wrk run warms the server up;
1. the sampler starts in a thread and takes its first sample (the server at rest);
2. wrk runs as a child process with wrk_json.lua; its CPU time comes from os.wait4() on that
   very child, so the load generator's share of the cores is measured, not guessed;
3. the sampler stops when wrk exits;
4. the fairness probe runs after wrk (or before it, or not at all: --probe), never during it,
   because it would add load of its own.

Exit codes: 0 run written; 2 bad arguments or missing tool (wrk, the Lua script, a unit);
3 wrk failed or printed no WRK_JSON line; 4 the fairness probe failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import fairness_probe
import sample_resources

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_VERSION = 2
INTERFACES = ("wsgi", "asgi")
# The app's databases (the topology role's topology_database).
DATABASES = ("sqlite", "postgres")
WRK_MARKER = "WRK_JSON "
# wrk_json.lua counts the answers by the value of the header this variable names (when set).
COUNT_HEADER_VARIABLE = "WRK_COUNT_HEADER"
HEADER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")
WRK_DEFAULT_TIMEOUT_S = 2  # wrk's own default socket/request timeout
WRK_GRACE_S = 30  # wrk is killed when it outlives its duration by this much
# Automatic probe duration: long enough for a fair server to answer every connection three
# times over at the rate wrk just measured, within these bounds (seconds).
PROBE_MIN_S = 5.0
PROBE_MAX_S = 60.0


class RunError(Exception):
    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def parse_seconds(text: str, option: str) -> int:
    """wrk-style time ("30", "30s", "2m", "1h") to whole seconds."""
    match = re.fullmatch(r"(\d+)\s*([smh]?)", text.strip())
    if not match or int(match.group(1)) == 0:
        raise RunError(f"{option} must be a positive time like 30, 30s, 2m or 1h; got {text!r}")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def parse_labels(pairs: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise RunError(f"--label must be KEY=VALUE, got {pair!r}")
        labels[key] = value
    return labels


def json_object(text: str) -> dict[str, int | str]:
    """argparse type of --overrides and --knobs: a JSON object of integer or string values."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not valid JSON ({error}): {text!r}") from error
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    for name, item in value.items():
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise argparse.ArgumentTypeError(
                f"{name!r}: expected an integer or a string, got {json.dumps(item)}"
            )
    return value


def proxy_name(text: str) -> str:
    """argparse type of --proxy: a name; leaving the option out means no proxy."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a proxy name; leave --proxy out for none")
    return text


def add_database_argument(group: argparse._ArgumentGroup) -> None:
    """--database: part of the config's identity when a sweep compares databases."""
    group.add_argument(
        "--database",
        choices=DATABASES,
        help="the app's database, when the sweep compares them (none: not a label)",
    )


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def find_wrk_json(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.startswith(WRK_MARKER)]
    if len(lines) != 1:
        raise RunError(
            f"wrk printed {len(lines)} '{WRK_MARKER.strip()}' lines, expected 1 "
            "(was it run with wrk_json.lua?)",
            3,
        )
    try:
        return json.loads(lines[0][len(WRK_MARKER) :])
    except json.JSONDecodeError as error:
        raise RunError(f"wrk's JSON line is malformed: {error}", 3) from error


def run_wrk(
    command: list[str], hard_timeout_s: float, count_header: str = ""
) -> tuple[str, str, int, dict[str, float]]:
    """Run wrk; return (stdout, stderr, exit code, its own CPU usage from wait4). With
    ``count_header``, wrk_json.lua counts the answers by that header's value."""
    environment = {**os.environ, COUNT_HEADER_VARIABLE: count_header}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=environment)
        killer = threading.Timer(hard_timeout_s, process.kill)
        killer.start()
        try:
            # wait4 on this pid alone: the sampler's own children (systemctl) are not counted.
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    client = {
        "cpu_user_s": round(usage.ru_utime, 3),
        "cpu_system_s": round(usage.ru_stime, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "max_rss_bytes": usage.ru_maxrss * 1024,
    }
    return stdout, stderr, process.returncode, client


def probe_duration(args: argparse.Namespace, measured_rps: float | None) -> float:
    """--probe-duration, or when it is 0 (auto): 3 x connections / the req/s wrk measured,
    so that a slow but fair server is not mistaken for a starving one."""
    if args.probe_duration > 0:
        return args.probe_duration
    if not measured_rps:
        return PROBE_MIN_S
    connections = args.probe_connections or args.connections
    return round(min(PROBE_MAX_S, max(PROBE_MIN_S, 3 * connections / measured_rps)), 1)


def run_fairness(
    args: argparse.Namespace, phase: str, measured_rps: float | None = None
) -> dict[str, Any]:
    try:
        result = fairness_probe.run_probe(
            args.url,
            args.probe_connections or args.connections,
            probe_duration(args, measured_rps),
            args.probe_timeout,
        )
    except (fairness_probe.ProbeError, TimeoutError) as error:
        raise RunError(f"fairness probe failed: {error or 'hard time limit'}", 4) from error
    result["phase"] = phase
    return result


def build_command(args: argparse.Namespace, duration_s: int, lua: str, wrk: str) -> list[str]:
    command = [wrk, "-t", str(args.threads), "-c", str(args.connections), "-d", f"{duration_s}s"]
    if args.timeout:
        command += ["--timeout", f"{parse_seconds(args.timeout, '--timeout')}s"]
    for header in args.header:
        command += ["-H", header]
    command += ["-s", lua, args.url]
    if args.client_cpus:
        taskset = shutil.which("taskset")
        if not taskset:
            raise RunError("--client-cpus needs taskset (util-linux), not found in PATH")
        command = [taskset, "-c", args.client_cpus, *command]  # taskset execs wrk: same pid
    return command


def progress_line(run: dict[str, Any]) -> str:
    labels, wrk = run["labels"], run["wrk"]
    errors = wrk["errors"]
    requests = wrk["requests"] or 0
    # The report's definition: every error over attempts (completed + never completed).
    attempts = requests + errors["connect"] + errors["read"] + errors["write"]
    error_pct = min(100.0, 100.0 * sum(errors.values()) / attempts) if requests else 100.0
    p99 = wrk["latency_us"]["p99"]
    p99_text = f"{p99 / 1000:.1f} ms" if p99 is not None else "n/a"
    text = (
        f"{labels['server']}/{labels['endpoint']} round {labels['round']}: "
        f"{wrk['rps'] or 0:.1f} req/s, p99 {p99_text}, "
        f"errors {error_pct:.2f}%, client CPU {run['client']['cpu_s']:.1f} s"
    )
    resources = run.get("resources")
    if resources and resources["pss_bytes"]["peak"] is not None:
        text += f", PSS peak {resources['pss_bytes']['peak'] / 2**20:.0f} MiB"
    fairness = run.get("fairness")
    if fairness:
        text += (
            f", answered {fairness['answered_connections']}/{fairness['connections']} connections"
        )
    counted = wrk.get("header_counts")
    if counted:
        shares = ", ".join(f"{value} {count}" for value, count in counted["counts"].items())
        text += f", by {counted['header']}: {shares or 'none'}"
    return text


def run_labels(args: argparse.Namespace) -> dict[str, Any]:
    """What the run measured (SCHEMA.md, run file labels), as given on the command line; the
    database only when given (a sweep that compares databases)."""
    return {
        "server": args.server,
        "interface": args.interface,
        "proxy": args.proxy,
        "overrides": args.overrides,
        "knobs": args.knobs,
        **({"database": args.database} if args.database else {}),
        "endpoint": args.endpoint,
        "round": args.round,
        "extra": parse_labels(args.label),
    }


def start_sampling(
    sampler: sample_resources.Sampler, limit_s: float, stop: threading.Event
) -> threading.Thread:
    """Sample in a thread until ``stop`` is set; return once the first sample is taken, so
    that it shows the server before the load."""
    first_sample = threading.Event()

    def sample() -> None:
        try:
            sampler.run(limit_s, stop, ready=first_sample)
        except Exception as error:  # a broken sampler must not lose the wrk result
            sampler.note(f"sampler stopped early: {error!r}")
        finally:
            first_sample.set()

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    first_sample.wait(10)
    return thread


def check_answer(url: str, keys: list[str], ready_timeout_s: float) -> None:
    """The URL answers 200 with a JSON object holding ``keys``; until it answers 200 at all it is
    asked again every 0.2 s for ready_timeout_s (a server that just restarted)."""
    deadline = time.monotonic() + ready_timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = response.read()
            break
        except (urllib.error.URLError, OSError) as error:
            if time.monotonic() >= deadline:
                raise RunError(
                    f"{url} did not answer 200 within {ready_timeout_s:g} s: {error}"
                ) from error
            time.sleep(0.2)  # polling the server's own answer: there is nothing else to wait on
    try:
        answer = json.loads(body)
    except json.JSONDecodeError:
        answer = None
    missing = [key for key in keys if not isinstance(answer, dict) or key not in answer]
    if missing:
        text = body[:300].decode("utf-8", "replace")
        raise RunError(f"{url}: expected the keys {keys}, missing {missing}; got {text}")


def warm_up(args: argparse.Namespace, wrk: str) -> None:
    """An unrecorded wrk run with the measured run's threads and connections."""
    seconds = parse_seconds(args.warmup, "--warmup")
    command = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", args.url]
    _, stderr, exit_code, _ = run_wrk(command, seconds + WRK_GRACE_S)
    if exit_code != 0:
        raise RunError(f"the warm-up's wrk exited with {exit_code}: {stderr.strip()}", 3)


def execute(args: argparse.Namespace) -> dict[str, Any]:
    duration_s = parse_seconds(args.duration, "--duration")
    if args.count_header and not HEADER_NAME.match(args.count_header):
        raise RunError(
            f"--count-header must be a header name (letters, digits, hyphens), "
            f"got {args.count_header!r}"
        )
    if args.threads < 1 or args.connections < args.threads:
        raise RunError(
            f"need --threads >= 1 and --connections >= --threads; got "
            f"{args.threads} threads, {args.connections} connections"
        )
    wrk = shutil.which(args.wrk)
    if not wrk:
        raise RunError(f"wrk not found ({args.wrk!r}): install it (apt-get install wrk)")
    lua = os.path.abspath(args.lua)
    if not os.path.isfile(lua):
        raise RunError(f"Lua script not found: {lua}")
    command = build_command(args, duration_s, lua, wrk)
    if args.expect_keys is not None:
        check_answer(
            args.url, [key for key in args.expect_keys.split(",") if key], args.ready_timeout
        )
    if args.warmup:
        warm_up(args, wrk)

    sampler = None
    if args.unit or args.cgroup or args.pid:
        try:
            sampler = sample_resources.build_sampler(
                args.unit, args.cgroup, args.pid, args.interval_ms, args.cgroup_root
            )
        except sample_resources.SamplerError as error:
            raise RunError(f"resource sampler: {error}") from error

    run: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "run",
        "labels": run_labels(args),
        "started_at": utc_now(),
    }
    fairness = run_fairness(args, "before") if args.probe == "before" else None

    stop_sampling = threading.Event()
    sampler_thread = None
    if sampler is not None:
        sampler_thread = start_sampling(sampler, duration_s + WRK_GRACE_S + 10, stop_sampling)
    began = time.monotonic()
    stdout, stderr, exit_code, client = run_wrk(
        command, duration_s + WRK_GRACE_S, args.count_header
    )
    wall_s = time.monotonic() - began
    stop_sampling.set()
    if sampler_thread is not None:
        sampler_thread.join()
    if exit_code != 0:
        detail = stderr.strip() or stdout.strip() or "no output"
        raise RunError(f"wrk exited with {exit_code}: {detail}", 3)
    wrk_result = find_wrk_json(stdout)

    if args.probe == "after":
        fairness = run_fairness(args, "after", wrk_result.get("rps"))

    run["finished_at"] = utc_now()
    run["load"] = {
        "tool": "wrk",
        "url": args.url,
        "threads": args.threads,
        "connections": args.connections,
        # wrk gives each thread connections // threads; the remainder is never opened.
        "effective_connections": (args.connections // args.threads) * args.threads,
        "duration_s": duration_s,
        "timeout_s": parse_seconds(args.timeout, "--timeout")
        if args.timeout
        else WRK_DEFAULT_TIMEOUT_S,
        "headers": args.header,
        "count_header": args.count_header or None,
        "client_cpus": args.client_cpus or None,
        "command": command,
        "wall_s": round(wall_s, 3),
    }
    run["host_cpus"] = os.cpu_count()
    run["wrk"] = wrk_result
    run["client"] = client
    run["resources"] = sampler.result() if sampler is not None else None
    run["fairness"] = fairness
    return run


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run wrk + resource sampler + fairness probe.")
    parser.add_argument("--output", required=True, help="run JSON to write")
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT/PATH to load")
    labels = parser.add_argument_group("labels")
    labels.add_argument("--server", required=True, help="the server's catalog name, e.g. uwsgi")
    labels.add_argument("--interface", required=True, choices=INTERFACES)
    labels.add_argument(
        "--proxy", type=proxy_name, help="proxy the load went through, e.g. caddy (none)"
    )
    labels.add_argument(
        "--overrides",
        type=json_object,
        default={},
        help='knobs the caller set, a JSON object such as {"workers": 1} ({}: none)',
    )
    labels.add_argument(
        "--knobs",
        type=json_object,
        default={},
        help="the settings the server resolved and ran with, JSON object ({})",
    )
    add_database_argument(labels)
    labels.add_argument("--endpoint", required=True, help="endpoint name, e.g. ping")
    labels.add_argument("--round", type=int, required=True, help="round number, from 1")
    labels.add_argument(
        "--label", action="append", default=[], help="extra KEY=VALUE label (repeatable)"
    )
    load = parser.add_argument_group("wrk")
    load.add_argument("--threads", type=int, default=4, help="wrk -t (4, as the study)")
    load.add_argument("--connections", type=int, default=200, help="wrk -c (200, as the study)")
    load.add_argument("--duration", default="30s", help="wrk -d (30s, as the study)")
    load.add_argument("--timeout", default="", help="wrk --timeout (wrk's default 2s)")
    load.add_argument("--header", action="append", default=[], help="wrk -H (repeatable)")
    load.add_argument("--wrk", default="wrk", help="wrk executable (wrk)")
    load.add_argument(
        "--lua", default=os.path.join(HERE, "wrk_json.lua"), help="wrk_json.lua (next to me)"
    )
    load.add_argument(
        "--count-header",
        default="",
        help="count the measured run's answers by this header's value, e.g. X-Served-By (none)",
    )
    load.add_argument("--client-cpus", default="", help="pin wrk with taskset -c LIST, e.g. 1")
    load.add_argument("--warmup", default="", help="unrecorded wrk run before, e.g. 1s (none)")
    check = parser.add_argument_group("answer check before any load (none without --expect-keys)")
    check.add_argument("--expect-keys", help="comma-separated JSON keys the answer must hold")
    check.add_argument(
        "--ready-timeout", type=float, default=30.0, help="seconds to wait for a 200 (30)"
    )
    sampling = parser.add_argument_group("resource sampler (none given: no sampling)")
    sample_resources.add_target_arguments(sampling)
    probe = parser.add_argument_group("fairness probe")
    probe.add_argument("--probe", choices=["after", "before", "off"], default="after")
    probe.add_argument(
        "--probe-connections", type=int, default=0, help="connections (0: same as wrk's -c)"
    )
    probe.add_argument(
        "--probe-duration",
        type=float,
        default=0.0,
        help="seconds; 0 = auto: 3 x connections / wrk's req/s, within 5..60 (0)",
    )
    probe.add_argument("--probe-timeout", type=float, default=10.0, help="seconds per answer (10)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        run = execute(args)
    except RunError as error:
        print(f"run_load: {error}", file=sys.stderr)
        return error.exit_code
    fairness_probe.write_json(run, args.output)
    print(progress_line(run), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
