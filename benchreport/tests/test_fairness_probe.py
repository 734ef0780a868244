"""fairness_probe.py against real local servers, and its pure parts."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pytest

from tests.support.servers import RunningServer, load_target_module, run_target_script

probe = load_target_module("fairness_probe")


def run_probe_cli(url: str, *extra: str) -> dict[str, object]:
    completed = run_target_script(
        "fairness_probe.py", "--url", url, "--connections", "10", "--duration", "1", *extra
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_fair_server_answers_every_connection(fair_server: RunningServer) -> None:
    result = run_probe_cli(fair_server.url("/ping/"))
    assert result["connections"] == 10
    assert result["opened"] == 10
    assert result["answered_connections"] == 10
    assert result["answered_fraction"] == 1.0
    answers = result["answers"]
    assert isinstance(answers, dict)
    assert answers["min"] > 0
    assert answers["gini"] < 0.2
    assert result["non_2xx"] == 0
    assert result["elapsed_s"] < 3


def test_starving_server_is_caught(starving_server: RunningServer) -> None:
    result = run_probe_cli(starving_server.url("/"), "--timeout", "5")
    # All 10 connections open (they wait in the listen backlog) but one is served.
    assert result["opened"] == 10
    assert result["answered_fraction"] < 1.0
    assert result["answered_connections"] <= 2
    answers = result["answers"]
    assert isinstance(answers, dict)
    assert answers["min"] == 0
    assert answers["gini"] > 0.7


def test_connection_close_server_counts_per_slot(close_server: RunningServer) -> None:
    result = run_probe_cli(close_server.url("/"))
    assert result["answered_fraction"] == 1.0
    reconnects = result["reconnects"]
    assert isinstance(reconnects, int)
    assert reconnects > 0


def test_non_2xx_answers_are_counted(errors_server: RunningServer) -> None:
    result = run_probe_cli(errors_server.url("/"))
    answers = result["answers"]
    assert isinstance(answers, dict)
    assert result["non_2xx"] == pytest.approx(answers["total"] / 10, abs=10)


def test_refused_connections_stop_on_time(tmp_path: Path) -> None:
    output = tmp_path / "probe.json"
    url = f"http://127.0.0.1:{free_port()}/"
    completed = run_target_script(
        "fairness_probe.py",
        *("--url", url, "--connections", "3", "--duration", "1", "--timeout", "0.5"),
        *("--output", str(output)),
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(output.read_text())
    assert result["opened"] == 0
    assert result["answered_fraction"] == 0.0
    assert result["errors"]["connect"] > 0
    assert result["elapsed_s"] < 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "https://127.0.0.1/"], "http:// URL"),
        (["--url", "http://127.0.0.1:1/", "--connections", "0"], "--connections must be"),
        (["--url", "http://127.0.0.1:1/", "--duration", "0"], "--duration must be"),
    ],
)
def test_bad_arguments_exit_2(args: list[str], message: str) -> None:
    completed = run_target_script("fairness_probe.py", *args)
    assert completed.returncode == 2
    assert message in completed.stderr


def test_gini() -> None:
    assert probe.gini([5, 5, 5, 5]) == 0.0
    assert probe.gini([0, 0, 0, 12]) == pytest.approx(0.75)
    assert probe.gini([]) == 0.0
    assert probe.gini([0, 0]) == 0.0


def test_read_response_handles_chunked_and_close() -> None:
    async def parse(raw: bytes) -> tuple[int, bool]:
        reader = asyncio.StreamReader()
        reader.feed_data(raw)
        reader.feed_eof()
        return await probe.read_response(reader)

    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
    assert asyncio.run(parse(chunked)) == (200, True)
    closing = b"HTTP/1.1 503 Busy\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno"
    assert asyncio.run(parse(closing)) == (503, False)
    old = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"
    assert asyncio.run(parse(old)) == (200, False)
    with pytest.raises(probe.ConnectionClosedError):
        asyncio.run(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"))
