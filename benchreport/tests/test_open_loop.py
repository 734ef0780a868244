"""open_loop.c (the fixed-rate client) and run_rates.py: real processes on 127.0.0.1.

The stall test is the issue's proof. One second of a stopped server (SIGSTOP) is one second
that every request due in it waits: open_loop, which measures from the due time, shows it in
p99. The same requests timed from their send (what a closed-loop client measures) keep a p99
in milliseconds: only the few requests in flight at the stop waited.

wrk is closed-loop too, but Debian's wrk 4.1 does not simply hide the stall: after the run,
before its report and before wrk_json.lua's done(), it "corrects" its histogram
(stats_correct in wrk.c): every sample longer than twice the mean per-connection interval
(duration x connections / requests) is copied at that interval down to it. Those made-up
samples make up about stall / duration of the total whatever the connection count, so a 1 s
stall in a short run is in wrk's p99 as well; the second stall test records that, so that no
report claims otherwise. open_loop measures each late request instead of guessing them.

The client is compiled here with gcc, as the benchmark role does on the load host: without
gcc these tests fail, they do not skip.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import IO, Any

import pytest

from tests.support.servers import (
    TARGET_DIR,
    RunningServer,
    load_target_module,
    run_target_script,
    running_server,
)

GCC_FLAGS = ("-std=c11", "-O2", "-Wall", "-Wextra", "-Werror")
CLIENT_LIMIT_S = 60.0
# The stall: 200 req/s for 10 s is 2000 requests; the 200 due in the stopped second are 10 %
# of them, far more than the 1 % above p99. A stall starts this long into a run.
STALL_S = 1.0
STALL_RATE = 200
STALL_RUN_S = 10
STALL_AFTER_S = 4.0
WRK_RUN_S = 3
WRK_STALL_AFTER_S = 1.0
ERROR_KINDS = ("connect", "read", "write", "status", "timeout", "unsent")


@pytest.fixture(scope="session")
def open_loop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """open_loop.c compiled with the flags it must stay clean under."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.fail("gcc is not installed (apt-get install -y gcc libc6-dev): open_loop.c needs it")
    binary = tmp_path_factory.mktemp("open_loop") / "open_loop"
    source = TARGET_DIR / "open_loop.c"
    completed = subprocess.run(
        [gcc, *GCC_FLAGS, "-o", str(binary), str(source), "-lm"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return binary


def client_args(url: str, rate: float, duration_s: float, *extra: str) -> list[str]:
    return ["--url", url, "--rate", str(rate), "--duration", str(duration_s), *extra]


def parse_point(completed: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert completed.returncode == 0, completed.stderr
    (line,) = completed.stdout.splitlines()
    point = json.loads(line)
    assert_accounting(point)
    return point


def measure(binary: Path, *args: str) -> dict[str, Any]:
    """One open_loop run that must succeed, its JSON point."""
    completed = subprocess.run(
        [str(binary), *args], capture_output=True, text=True, timeout=CLIENT_LIMIT_S, check=False
    )
    return parse_point(completed)


def assert_accounting(point: dict[str, Any]) -> None:
    """Every scheduled request is sent or unsent; every sent one answered or lost to an error."""
    errors = point["errors"]
    assert set(errors) == set(ERROR_KINDS)
    assert point["scheduled"] == point["sent"] + errors["unsent"]
    lost = errors["read"] + errors["write"] + errors["timeout"]
    assert point["sent"] == point["completed"] + lost
    assert (point["latency_us"]["p99"] is None) == (point["completed"] == 0)


def wait_for_output(stream: IO[bytes], marker: bytes, timeout_s: float) -> bytes:
    """Read a child's pipe until marker shows up (a progress line), bounded in time; return
    what was read, for the caller to put before the rest."""
    deadline = time.monotonic() + timeout_s
    seen = b""
    while marker not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {marker!r} within {timeout_s} s; got {seen!r}"
        ready, _, _ = select.select([stream], [], [], remaining)
        if ready:
            chunk = os.read(stream.fileno(), 4096)
            assert chunk, f"pipe closed before {marker!r}; got {seen!r}"
            seen += chunk
    return seen


def stall(pid: int, seconds: float) -> None:
    """Stop the server for `seconds`: nothing it holds is read or answered meanwhile."""
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)  # the stall itself, not a wait for a condition
    finally:
        os.kill(pid, signal.SIGCONT)


def stalled_open_loop(
    binary: Path, server: RunningServer, args: list[str], after_s: float, stall_s: float
) -> dict[str, Any]:
    """Run open_loop; once its schedule has started and after_s more, stop the server."""
    process = subprocess.Popen([str(binary), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stderr is not None
        head = wait_for_output(process.stderr, b"open_loop: sending", 10)  # its progress line
        time.sleep(after_s)  # into the window: a time to reach, not a condition to wait for
        stall(server.pid, stall_s)
        stdout, stderr = process.communicate(timeout=CLIENT_LIMIT_S)
        stderr = head + stderr
    finally:
        process.kill()
        process.wait()
    return parse_point(
        subprocess.CompletedProcess(
            process.args, process.returncode, stdout.decode(), stderr.decode()
        )
    )


def stalled_wrk(wrk: str, server: RunningServer) -> dict[str, Any]:
    """wrk, closed-loop, 4 connections: a stall holds 4 requests out of thousands."""
    lua = TARGET_DIR / "wrk_json.lua"
    # stdbuf: wrk's stdout is a pipe here, and its first line must arrive when it is printed.
    command = ["stdbuf", "-oL", wrk, "-t1", "-c4", f"-d{WRK_RUN_S}s", "--timeout", "5s"]
    process = subprocess.Popen([*command, "-s", str(lua), server.url("/")], stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        head = wait_for_output(process.stdout, b"Running", 10)  # its first line, before connecting
        time.sleep(WRK_STALL_AFTER_S)
        stall(server.pid, STALL_S)
        stdout, _ = process.communicate(timeout=CLIENT_LIMIT_S)
        stdout = head + stdout
    finally:
        process.kill()
        process.wait()
    return load_target_module("run_load").find_wrk_json(stdout.decode())


def test_a_stall_shows_in_p99_from_the_due_time_not_from_the_send(open_loop: Path) -> None:
    with running_server("fair") as server:
        args = client_args(server.url("/"), STALL_RATE, STALL_RUN_S, "--connections", "8")
        args += ["--timeout", "5"]  # the stalled answers are late, not lost
        point = stalled_open_loop(open_loop, server, args, STALL_AFTER_S, STALL_S)
    assert point["scheduled"] == STALL_RATE * STALL_RUN_S
    assert point["completed"] == point["scheduled"]
    assert not any(point["errors"].values())
    # From the due time: the requests due in the stopped second waited for it.
    assert 0.8e6 <= point["latency_us"]["p99"] <= 1.5e6
    # From the send, the closed-loop view: only the 8 requests in flight at the stop waited
    # (the max); p99 stays in milliseconds.
    assert point["service_latency_us"]["max"] >= 0.8e6
    assert point["service_latency_us"]["p99"] < 100e3
    assert point["max_send_lag_us"] >= 0.8e6  # the queued requests left late, and it shows


def test_wrk_fills_a_stall_in_after_the_run(wrk_path: str) -> None:
    """Not a test of our code: the fact about wrk that the module docstring explains."""
    with running_server("fair") as server:
        wrk = stalled_wrk(wrk_path, server)
    assert wrk["requests"] > 1000  # its 4 stalled requests are far below 1 % of the samples
    assert wrk["latency_us"]["max"] >= 0.8e6
    # ... yet its p99 is in the stall: the samples stats_correct added after the run.
    assert wrk["latency_us"]["p99"] >= 0.5e6


def test_a_low_rate_is_held(open_loop: Path, fair_server: RunningServer) -> None:
    point = measure(open_loop, *client_args(fair_server.url("/"), 200, 2, "--connections", "8"))
    assert point["scheduled"] == 400
    assert point["completed"] == point["sent"] == point["scheduled"]
    assert not any(point["errors"].values())
    assert abs(point["achieved_rps"] - 200) <= 0.05 * 200
    assert point["connections"] == 8
    # Every latency from the due time includes the one from the send.
    for key in ("min", "p50", "p99", "max"):
        assert point["latency_us"][key] >= point["service_latency_us"][key]
    assert point["client_cpu_s"] > 0


@pytest.mark.parametrize("mode", ["chunked", "close"])
def test_chunked_and_closing_answers_are_parsed(open_loop: Path, mode: str) -> None:
    with running_server(mode) as server:
        point = measure(open_loop, *client_args(server.url("/"), 300, 1, "--connections", "4"))
    assert point["completed"] == point["scheduled"] == 300
    assert not any(point["errors"].values())


def test_error_statuses_are_counted_and_completed(
    open_loop: Path, errors_server: RunningServer
) -> None:
    point = measure(open_loop, *client_args(errors_server.url("/"), 200, 1, "--connections", "4"))
    assert point["completed"] == point["scheduled"] == 200
    assert point["errors"]["status"] == 20  # every 10th answer is a 503
    assert point["errors"]["read"] == point["errors"]["timeout"] == 0


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_closed_port_counts_connect_errors(open_loop: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    point = measure(open_loop, *client_args(url, 100, 1, "--connections", "4"))
    assert point["errors"]["connect"] >= 4
    assert point["sent"] == point["completed"] == 0
    assert point["errors"]["unsent"] == point["scheduled"] == 100
    assert point["latency_us"] == dict.fromkeys(point["latency_us"])  # all null
    assert point["max_send_lag_us"] is None


def test_a_slow_answer_times_out_and_the_connection_reopens(
    open_loop: Path, fair_server: RunningServer
) -> None:
    args = client_args(fair_server.url("/"), 100, 2, "--connections", "2", "--timeout", "0.2")
    point = stalled_open_loop(open_loop, fair_server, args, 0.5, 0.6)
    assert point["errors"]["timeout"] >= 1
    assert point["completed"] > point["scheduled"] / 2  # the reopened connections went on


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("--rate", "abc", "'abc'"),
        ("--rate", "0", "'0'"),
        ("--duration", "-1", "'-1'"),
        ("--connections", "0", "'0'"),
        ("--timeout", "nan", "'nan'"),
        ("--url", "https://127.0.0.1/", "'https://127.0.0.1/'"),
        ("--url", "http://127.0.0.1:99999/", "'99999'"),
    ],
)
def test_bad_arguments_exit_2_naming_the_value(
    open_loop: Path, option: str, value: str, named: str
) -> None:
    args = {"--url": "http://127.0.0.1:1/", "--rate": "10", "--duration": "1", option: value}
    command = [str(open_loop), *(item for pair in args.items() for item in pair)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert option in completed.stderr
    assert named in completed.stderr


def run_rates(*args: str) -> subprocess.CompletedProcess[str]:
    return run_target_script("run_rates.py", *args, timeout_s=CLIENT_LIMIT_S)


def points_args(client: Path, output: Path, url: str, *points: str) -> list[str]:
    return [
        *("points", "--client", str(client), "--output", str(output), "--url", url),
        *("--server", "testserver", "--interface", "asgi", "--endpoint", "ping", "--round", "2"),
        *("--duration", "1", "--connections", "4", "--timeout", "0.5"),
        *(item for point in points for item in ("--point", point)),
    ]


def test_run_rates_points_writes_a_rates_file(
    open_loop: Path, fair_server: RunningServer, tmp_path: Path
) -> None:
    output = tmp_path / "rates" / "r2-testserver-ping.json"
    args = points_args(open_loop, output, fair_server.url("/"), "250:common", "100:knee")
    completed = run_rates(
        *args,
        *("--point", "250:given", "--proxy", "caddy", "--overrides", '{"workers": 1}'),
        *("--knobs", '{"workers": 1, "threads": 2}', "--label", "load_host=target"),
    )
    assert completed.returncode == 0, completed.stderr
    document = json.loads(output.read_text())
    assert document["schema_version"] == 2
    assert document["kind"] == "rates"
    assert document["labels"] == {
        "server": "testserver",
        "interface": "asgi",
        "proxy": "caddy",
        "overrides": {"workers": 1},
        "knobs": {"workers": 1, "threads": 2},
        "endpoint": "ping",
        "round": 2,
        "extra": {"load_host": "target"},
    }
    assert document["slo_ms"] == 100
    assert document["client"]["tool"] == "open_loop"
    assert document["client"]["ceiling_rps"] is None
    points = document["points"]
    # Ascending, one per rate (the first reason given for 250 wins), at least 200 requests each.
    assert [(p["offered_rps"], p["reason"]) for p in points] == [(100, "knee"), (250, "common")]
    assert [p["duration_s"] for p in points] == [2, 1]
    assert all(p["scheduled"] >= 200 and p["completed"] == p["scheduled"] for p in points)
    assert document["skipped"] == []
    lines = completed.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("testserver/ping round 2: 100 req/s offered, ")
    assert lines[0].endswith(", held")


def test_run_rates_skips_points_above_the_ceiling_and_after_saturation(
    open_loop: Path, starving_server: RunningServer, tmp_path: Path
) -> None:
    """The starving server answers one connection of four: a quarter of the offered rate."""
    output = tmp_path / "rates.json"
    args = points_args(open_loop, output, starving_server.url("/"), "200:knee", "400:common")
    completed = run_rates(*args, "--point", "800:given", "--ceiling-rps", "500")
    assert completed.returncode == 0, completed.stderr
    document = json.loads(output.read_text())
    (point,) = document["points"]
    assert point["offered_rps"] == 200
    assert point["achieved_rps"] < 0.9 * 200
    assert point["errors"]["timeout"] > 0
    assert document["client"]["ceiling_rps"] == 500
    assert document["skipped"] == [
        {
            "offered_rps": 400,
            "reason": "common",
            "why": "the server could not keep up at a lower rate",
        },
        {"offered_rps": 800, "reason": "given", "why": "above the client's ceiling"},
    ]
    assert "not held" in completed.stdout


def test_run_rates_descends_below_the_lowest_rate_until_one_is_held(
    open_loop: Path, slow_server: RunningServer, tmp_path: Path
) -> None:
    """The slow server answers one request per 5 ms: 800 req/s is far beyond it, and the
    halvings below it reach a rate it holds, where the descent stops."""
    output = tmp_path / "rates.json"
    args = points_args(open_loop, output, slow_server.url("/"), "800:knee")
    completed = run_rates(*args, "--descend", "4")
    assert completed.returncode == 0, completed.stderr
    points = json.loads(output.read_text())["points"]
    offered = [point["offered_rps"] for point in points]
    assert offered == sorted(offered)
    assert points[-1]["reason"] == "knee"
    descent = points[:-1]
    assert descent
    assert all(point["reason"] == "descent" for point in descent)
    assert set(offered[:-1]) <= {400, 200, 100, 50}
    # Only the last halving (the lowest rate) holds: each one above it was not.
    assert completed.stdout.count(", held") == 1
    lowest = points[0]
    assert lowest["completed"] == lowest["scheduled"]
    assert lowest["latency_us"]["p99"] <= 100_000
    assert lowest["offered_rps"] <= 200


def test_run_rates_descends_at_most_the_given_times(
    open_loop: Path, errors_server: RunningServer, tmp_path: Path
) -> None:
    """Every tenth answer is an error: no rate is held, and the descent stops after two."""
    output = tmp_path / "rates.json"
    args = points_args(open_loop, output, errors_server.url("/"), "2000:knee")
    completed = run_rates(*args, "--descend", "2")
    assert completed.returncode == 0, completed.stderr
    points = json.loads(output.read_text())["points"]
    assert [(p["offered_rps"], p["reason"]) for p in points] == [
        (500, "descent"),
        (1000, "descent"),
        (2000, "knee"),
    ]
    assert all(point["errors"]["status"] > 0 for point in points)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--descend", "11"), "--descend must be 0 to 10, got 11"),
        (("--point", "100:fast"), "'100:fast'"),
        (("--point=-5:given",), "'-5:given'"),
        (("--client", "/no/open_loop"), "/no/open_loop"),
    ],
)
def test_run_rates_bad_arguments_exit_2(
    open_loop: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    output = tmp_path / "rates.json"
    completed = run_rates(*points_args(open_loop, output, "http://127.0.0.1:1/", "10:given"), *args)
    assert completed.returncode == 2
    assert message in completed.stderr
    assert not output.exists()


def test_run_rates_ceiling_finds_the_clients_ceiling(open_loop: Path, tmp_path: Path) -> None:
    output = tmp_path / "ceiling.json"
    completed = run_rates(
        "ceiling", "--client", str(open_loop), "--output", str(output), "--duration", "1"
    )
    assert completed.returncode == 0, completed.stderr
    document = json.loads(output.read_text())
    assert document["format"] == "client_ceiling/1"
    assert document["ceiling_rps"] is not None, completed.stdout
    assert document["ceiling_rps"] > 1000, completed.stdout
    rates = [point["offered_rps"] for point in document["points"]]
    assert rates == sorted(rates)
    last = document["points"][-1]  # the ramp stopped at a rate it could not hold, or its top
    assert not last["held"] or last["offered_rps"] == 160000
    held = [point["offered_rps"] for point in document["points"] if point["held"]]
    assert document["ceiling_rps"] == max(held)


@pytest.mark.parametrize(
    ("client", "message"),
    [("/bin/false", "exited with 1"), ("/bin/true", "printed 0 lines on stdout")],
)
def test_run_rates_exits_3_when_the_client_fails(tmp_path: Path, client: str, message: str) -> None:
    output = tmp_path / "rates.json"
    completed = run_rates(*points_args(Path(client), output, "http://127.0.0.1:1/", "10:given"))
    assert completed.returncode == 3
    assert message in completed.stderr
    assert not output.exists()
