"""run_load.py end to end: real wrk, the sampler on the server's PID, the fairness probe."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from benchreport.aggregate import aggregate
from benchreport.schema import Run, Thresholds, parse_run
from tests.support.servers import RunningServer, load_target_module, run_target_script


def run_load(output: Path, url: str, *extra: str) -> tuple[int, str, str]:
    completed = run_target_script(
        "run_load.py",
        *("--output", str(output), "--url", url),
        *("--server", "testserver", "--interface", "wsgi", "--endpoint", "ping", "--round", "1"),
        *("--threads", "2", "--connections", "8", "--duration", "1"),
        *("--probe-duration", "1", "--probe-timeout", "5"),
        *extra,
    )
    return completed.returncode, completed.stdout, completed.stderr


def load_run(path: Path) -> Run:
    return parse_run(json.loads(path.read_text()), path.name)


def measure(tmp_path: Path, url: str, *extra: str) -> Run:
    """A run that must succeed, read back from its run file."""
    output = tmp_path / "run.json"
    code, _, stderr = run_load(output, url, *extra)
    assert code == 0, stderr
    return load_run(output)


def test_fair_run_end_to_end(wrk_path: str, fair_server: RunningServer, tmp_path: Path) -> None:
    output = tmp_path / "runs" / "r1-testserver-ping.json"
    code, stdout, stderr = run_load(
        output,
        fair_server.url("/ping/"),
        *("--pid", str(fair_server.pid), "--interval-ms", "100"),
        *("--proxy", "caddy", "--overrides", '{"workers": 1}', "--label", "commit=abc123"),
        *("--knobs", '{"workers": 1, "threads": 1, "http_mode": "asyncio"}'),
    )
    assert code == 0, stderr
    assert stdout.startswith("testserver/ping round 1: ")
    assert "answered 8/8 connections" in stdout
    document = json.loads(output.read_text())
    assert document["load"]["command"][0] == wrk_path
    assert document["labels"] == {
        "server": "testserver",
        "interface": "wsgi",
        "proxy": "caddy",
        "overrides": {"workers": 1},
        "knobs": {"workers": 1, "threads": 1, "http_mode": "asyncio"},
        "endpoint": "ping",
        "round": 1,
        "extra": {"commit": "abc123"},
    }
    run = load_run(output)
    assert run.config.name == "testserver-caddy (workers=1)"
    assert run.config.description == "wsgi workers=1 threads=1 http_mode=asyncio via=caddy"
    assert run.wrk.requests > 100
    assert run.wrk.errors.total == 0
    assert run.load.threads == 2
    assert run.load.connections == 8
    assert run.client_cpu_s is not None
    assert run.client_cpu_s > 0  # wrk's own CPU time, from wait4
    assert run.resources is not None
    assert run.resources.samples >= 5  # every 100 ms over a 1 s run
    assert run.resources.pss_peak_bytes is not None
    assert run.resources.pss_peak_bytes > 0
    assert run.resources.server_cpu_s is not None
    assert run.resources.server_cpu_s > 0  # the server worked during the run
    assert run.fairness is not None
    assert run.fairness.answered_fraction == 1.0
    assert run.fairness.phase == "after"


def test_answers_counted_by_a_header_and_the_database_label(
    wrk_path: str, fair_server: RunningServer, tmp_path: Path
) -> None:
    output = tmp_path / "run.json"
    code, stdout, stderr = run_load(
        output,
        fair_server.url("/"),
        *("--count-header", "Content-Type", "--database", "postgres", "--probe", "off"),
    )
    assert code == 0, stderr
    document = json.loads(output.read_text())
    assert document["load"]["count_header"] == "Content-Type"
    assert document["labels"]["database"] == "postgres"
    requests = document["wrk"]["requests"]
    assert document["wrk"]["header_counts"]["counts"] == {"application/json": requests}
    assert f"by Content-Type: application/json {requests}" in stdout
    run = load_run(output)
    assert run.config.database == "postgres"
    assert run.config.name == "testserver on postgres"


def test_starving_server_is_flagged(
    wrk_path: str, starving_server: RunningServer, tmp_path: Path
) -> None:
    run = measure(tmp_path, starving_server.url("/"), "--probe", "before")
    # wrk alone sees a healthy server ...
    assert run.wrk.requests > 100
    assert run.wrk.errors.total == 0
    # ... the probe does not, and the aggregate refuses to rank it.
    assert run.fairness is not None
    assert run.fairness.phase == "before"
    assert run.fairness.answered_fraction < 1.0
    (row,) = aggregate([run], Thresholds())
    assert "starved" in row.flags
    assert not row.ranked


def test_probe_off_and_no_sampler(
    wrk_path: str, fair_server: RunningServer, tmp_path: Path
) -> None:
    run = measure(tmp_path, fair_server.url("/"), "--probe", "off")
    assert run.fairness is None
    assert run.resources is None
    (row,) = aggregate([run], Thresholds())
    assert row.flags == ("unprobed",)
    assert row.ranked
    # Without --proxy, --overrides and --knobs: straight to the server, its catalog config.
    assert (run.config.proxy, dict(run.config.overrides), dict(run.config.knobs)) == (None, {}, {})


def test_missing_wrk_is_a_clear_error(tmp_path: Path) -> None:
    code, _, stderr = run_load(tmp_path / "x.json", "http://127.0.0.1:1/", "--wrk", "/no/wrk")
    assert code == 2
    assert "wrk not found" in stderr
    assert not (tmp_path / "x.json").exists()


def test_wrk_failure_exits_3(wrk_path: str, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        code, _, stderr = run_load(tmp_path / "x.json", f"http://127.0.0.1:{port}/")
    assert code == 3
    assert "wrk exited with" in stderr
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--duration", "0"), "--duration must be a positive time"),
        (("--label", "novalue"), "--label must be KEY=VALUE"),
        (("--pid", "999999999"), "process 999999999 does not exist"),
        (("--count-header", "X Served"), "--count-header must be a header name"),
    ],
)
def test_bad_arguments_exit_2(
    wrk_path: str, tmp_path: Path, extra: tuple[str, ...], message: str
) -> None:
    code, _, stderr = run_load(tmp_path / "x.json", "http://127.0.0.1:1/", *extra)
    assert code == 2
    assert message in stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--overrides", "{workers: 1}"), "argument --overrides: not valid JSON"),
        (("--overrides", "[1]"), "argument --overrides: expected a JSON object, got '[1]'"),
        (("--knobs", '{"workers": 1.5}'), "'workers': expected an integer or a string, got 1.5"),
        (("--knobs", '{"debug": true}'), "'debug': expected an integer or a string, got true"),
        (("--interface", "cgi"), "argument --interface: invalid choice: 'cgi'"),
        (("--proxy", ""), "argument --proxy: expected a proxy name"),
        (("--database", "mysql"), "argument --database: invalid choice: 'mysql'"),
    ],
)
def test_bad_labels_are_usage_errors(tmp_path: Path, extra: tuple[str, ...], message: str) -> None:
    code, _, stderr = run_load(tmp_path / "x.json", "http://127.0.0.1:1/", *extra)
    assert code == 2
    assert stderr.startswith("usage: run_load.py")
    assert message in stderr
    assert not (tmp_path / "x.json").exists()


@pytest.mark.parametrize(
    ("given", "measured_rps", "expected"),
    [
        (2.0, 100.0, 2.0),  # an explicit duration wins
        (0.0, None, 5.0),  # probe before wrk: nothing measured yet
        (0.0, 10_000.0, 5.0),  # fast server: the floor
        (0.0, 60.0, 10.0),  # 3 x 200 connections / 60 req/s
        (0.0, 1.0, 60.0),  # very slow server: the ceiling
    ],
)
def test_automatic_probe_duration(
    given: float, measured_rps: float | None, expected: float
) -> None:
    run_load_module = load_target_module("run_load")
    args = run_load_module.parse_args(
        [
            *("--output", "x", "--url", "http://127.0.0.1/"),
            *("--server", "s", "--interface", "asgi", "--endpoint", "e", "--round", "1"),
            *("--probe-duration", str(given)),
        ]
    )
    assert run_load_module.probe_duration(args, measured_rps) == expected


def test_answer_checked_and_warm_up_before_the_run(
    wrk_path: str, fair_server: RunningServer, tmp_path: Path
) -> None:
    """--expect-keys passes on the server's JSON answer; --warmup adds a wrk run that is not
    recorded (the run file still holds the measured run's 1 s)."""
    run = measure(
        tmp_path,
        fair_server.url("/"),
        "--probe",
        "off",
        "--expect-keys",
        "status,server",
        "--warmup",
        "1s",
    )
    assert run.load.duration_s == 1


def test_an_answer_without_the_keys_stops_before_any_load(
    wrk_path: str, fair_server: RunningServer, tmp_path: Path
) -> None:
    output = tmp_path / "run.json"
    code, _, stderr = run_load(output, fair_server.url("/"), "--expect-keys", "status,count")
    assert code == 2
    assert "missing ['count']" in stderr
    assert '"benchreport-test"' in stderr  # the answer it got
    assert not output.exists()


def test_a_server_that_never_answers_is_named(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    code, _, stderr = run_load(
        tmp_path / "run.json", url, "--expect-keys", "status", "--ready-timeout", "0.5"
    )
    assert code == 2
    assert f"{url} did not answer 200 within 0.5 s" in stderr
