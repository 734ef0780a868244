"""wrk_json.lua against real wrk and real local servers."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from benchreport.jsonfields import Ctx
from benchreport.schema import parse_wrk
from tests.support.servers import TARGET_DIR, RunningServer

LUA = TARGET_DIR / "wrk_json.lua"
MARKER = "WRK_JSON "


def run_wrk(
    wrk_path: str, url: str, env: dict[str, str] | None = None, connections: int = 4
) -> tuple[str, dict[str, object]]:
    completed = subprocess.run(
        [wrk_path, "-t2", f"-c{connections}", "-d1s", "-s", str(LUA), url],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        env={**os.environ, **(env or {})},
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith(MARKER)]
    assert len(lines) == 1, completed.stdout
    return completed.stdout, json.loads(lines[0][len(MARKER) :])


def test_done_hook_reports_wrk_counters(wrk_path: str, fair_server: RunningServer) -> None:
    _, result = run_wrk(wrk_path, fair_server.url("/ping/?q=1"))
    assert result["format"] == "wrk_json/1"
    assert result["target"] == {
        "scheme": "http",
        "host": "127.0.0.1",
        "port": str(fair_server.port),
        "method": "GET",
        "path": "/ping/?q=1",
    }
    requests, duration_us = result["requests"], result["duration_us"]
    assert isinstance(requests, int)
    assert requests > 100
    assert isinstance(duration_us, int)
    assert 0.9e6 < duration_us < 3e6
    assert result["rps"] == pytest.approx(requests / (duration_us / 1e6), rel=1e-3)
    latency = result["latency_us"]
    assert isinstance(latency, dict)
    ordered = [latency[name] for name in ("min", "p50", "p75", "p90", "p99", "p99_9", "max")]
    assert ordered == sorted(ordered)
    assert latency["min"] > 0
    assert result["errors"] == {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}
    parsed = parse_wrk(result, Ctx("wrk"))
    assert parsed.requests == requests
    assert parsed.error_rate == 0.0


def test_status_errors_are_counted(wrk_path: str, errors_server: RunningServer) -> None:
    _, result = run_wrk(wrk_path, errors_server.url("/"))
    errors = result["errors"]
    assert isinstance(errors, dict)
    requests = result["requests"]
    assert isinstance(requests, int)
    # The server answers every 10th request with a 503.
    assert errors["status"] == pytest.approx(requests / 10, rel=0.05)
    assert parse_wrk(result, Ctx("wrk")).error_rate == pytest.approx(0.1, rel=0.05)


def test_json_file_from_environment(
    wrk_path: str, fair_server: RunningServer, tmp_path: Path
) -> None:
    target = tmp_path / "wrk.json"
    _, from_stdout = run_wrk(wrk_path, fair_server.url("/"), env={"WRK_JSON_FILE": str(target)})
    assert json.loads(target.read_text()) == from_stdout


def test_wrk_is_fooled_by_a_starving_server(wrk_path: str, starving_server: RunningServer) -> None:
    """The failure the fairness probe exists for: only one of wrk's 8 connections is ever
    served, yet wrk reports plenty of requests and not a single error."""
    _, result = run_wrk(wrk_path, starving_server.url("/"), connections=8)
    requests = result["requests"]
    assert isinstance(requests, int)
    assert requests > 100
    assert result["errors"] == {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}


def test_answers_are_counted_by_a_header_over_every_thread(
    wrk_path: str, fair_server: RunningServer
) -> None:
    """WRK_COUNT_HEADER: every answer counted by the header's value, summed over wrk's two
    threads; the name matches whatever its case, and answers without it are "(missing)"."""
    _, counted = run_wrk(wrk_path, fair_server.url("/"), env={"WRK_COUNT_HEADER": "content-TYPE"})
    assert counted["header_counts"] == {
        "header": "content-TYPE",
        "counts": {"application/json": counted["requests"]},
    }
    _, missing = run_wrk(wrk_path, fair_server.url("/"), env={"WRK_COUNT_HEADER": "X-Served-By"})
    assert missing["header_counts"] == {
        "header": "X-Served-By",
        "counts": {"(missing)": missing["requests"]},
    }
    parsed = parse_wrk(missing, Ctx("wrk"))
    assert parsed.header_counts is not None
    assert parsed.header_counts.total == parsed.requests


def test_no_counting_without_the_variable(wrk_path: str, fair_server: RunningServer) -> None:
    _, result = run_wrk(wrk_path, fair_server.url("/"), env={"WRK_COUNT_HEADER": ""})
    assert "header_counts" not in result
