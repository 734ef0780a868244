"""probe.py against real HTTP servers on loopback, copied alone and run by Debian's python3."""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import TARGET_PYTHON

SRC_DIR = Path(__file__).resolve().parents[1] / "src"
PROBE_SOURCE = SRC_DIR / "benchreport" / "probe.py"
RUN_TIMEOUT_S = 20.0
# The server that closes idle keep-alive connections does so after this share of answers.
IDLE_CLOSE_SHARE = 0.3
RELEASES = ("blue", "green")
# A probe result as parsed from its JSON.
Result = dict[str, Any]


class ProbeTestServer:
    """A threaded HTTP/1.1 server on loopback; ``mode`` picks how it answers:

    ok: 200 keep-alive, Content-Length. idle_close: the same, but it closes the connection
    right after some answers without saying so (a keep-alive timeout firing just as the client
    reuses the connection). close_header: ``Connection: close`` on every answer, every other
    body delimited by the close alone. status503: 503 keep-alive. hang: reads the request and
    never answers. chunked: a 100 Continue, then a chunked body with extensions and a trailer.
    broken: closes every connection after half an answer, or after none (odd, even answers).
    The body is {"release": ...} and the X-Release header says the same, alternating."""

    def __init__(self, mode: str, host: str = "127.0.0.1") -> None:
        self.mode = mode
        self.host = host
        self.family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.lock = threading.Lock()
        self.answered = 0
        self.host_headers: set[str] = set()
        self.random = random.Random(16)
        self.connections: set[socket.socket] = set()
        self.listener: socket.socket | None = None
        self.accept_thread: threading.Thread | None = None
        self.port = 0
        self.listen()

    def url(self, path: str = "/api/health/sync") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def listen(self) -> None:
        listener = socket.create_server((self.host, self.port), family=self.family)
        listener.settimeout(0.02)  # the accept loop notices a pause or close within 20 ms
        self.port = listener.getsockname()[1]
        self.listener = listener
        self.accept_thread = threading.Thread(target=self.accept_loop, args=(listener,))
        self.accept_thread.start()

    def stop_listening(self) -> None:
        """Close the listening socket and every connection, as a stopped server does."""
        self.listener = None
        if self.accept_thread is not None:
            self.accept_thread.join()
        with self.lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def pause(self, seconds: float) -> None:
        self.stop_listening()
        time.sleep(seconds)
        self.listen()  # the same port: SO_REUSEADDR is set by create_server

    def accept_loop(self, listener: socket.socket) -> None:
        with listener:
            while self.listener is listener:
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    continue
                with self.lock:
                    self.connections.add(connection)
                threading.Thread(target=self.serve, args=(connection,), daemon=True).start()

    def serve(self, connection: socket.socket) -> None:
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = connection.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                self.note_request(head)
                if self.mode == "hang":
                    while connection.recv(65536):
                        pass  # until the client gives up or the server stops
                    return
                with self.lock:
                    self.answered += 1
                    number = self.answered
                answer = self.answer(number)
                if self.mode == "broken":
                    connection.sendall(answer[: len(answer) // 2 if number % 2 else 0])
                    return
                connection.sendall(answer)
                if self.mode == "close_header" or (
                    self.mode == "idle_close" and self.random.random() < IDLE_CLOSE_SHARE
                ):
                    return
        except OSError:
            return
        finally:
            with self.lock:
                self.connections.discard(connection)
            connection.close()

    def note_request(self, head: bytes) -> None:
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "host":
                with self.lock:
                    self.host_headers.add(value.strip())

    def answer(self, number: int) -> bytes:
        release = RELEASES[number % 2]
        body = json.dumps({"release": release, "answer": number}).encode()
        if self.mode == "chunked":
            chunks = [body[:7], body[7:9], body[9:]]
            encoded = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)
            return (
                b"HTTP/1.1 100 Continue\r\n\r\n"
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Release: "
                + release.encode()
                + b"\r\n\r\n"
                + encoded
                + b"0\r\nX-Trailer: yes\r\n\r\n"
            )
        status = b"503 Service Unavailable" if self.mode == "status503" else b"200 OK"
        headers = [b"HTTP/1.1 " + status, b"X-Release: " + release.encode()]
        if self.mode == "close_header":
            headers.append(b"Connection: close")
        if not (self.mode == "close_header" and number % 2):
            headers.append(b"Content-Length: %d" % len(body))
        return b"\r\n".join(headers) + b"\r\n\r\n" + body

    def close(self) -> None:
        self.stop_listening()


@contextlib.contextmanager
def serving(mode: str, host: str = "127.0.0.1") -> Iterator[ProbeTestServer]:
    server = ProbeTestServer(mode, host)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def probe_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """probe.py copied alone into an empty directory, as the container tests use it."""
    copy = tmp_path_factory.mktemp("probe") / "probe.py"
    shutil.copyfile(PROBE_SOURCE, copy)
    return copy


def run_probe(script: Path, url: str, *args: str) -> Result:
    completed = subprocess.run(
        [TARGET_PYTHON, str(script), "--url", url, *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr.startswith("probe: "), completed.stderr
    return json.loads(completed.stdout)


def start_probe(script: Path, tmp_path: Path, url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *(TARGET_PYTHON, str(script), "--url", url, "--duration", "600"),
            *("--ready-file", str(tmp_path / "ready"), "--stop-file", str(tmp_path / "stop")),
            *("--output", str(tmp_path / "result.json"), *args),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_file(path: Path, process: subprocess.Popen[str], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert process.poll() is None, f"probe exited early: {process.communicate()[1]}"
        assert time.monotonic() < deadline, f"{path.name} not written within {timeout_s} s"
        time.sleep(0.01)


def finish(process: subprocess.Popen[str], tmp_path: Path) -> Result:
    _, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
    assert process.returncode == 0, stderr
    return json.loads((tmp_path / "result.json").read_text())


def kinds(result: Result) -> dict[str, int]:
    return result["failed_by_kind"]


def assert_consistent(result: Result) -> None:
    assert result["requests"] == result["ok"] + result["failed"]
    assert result["failed"] == sum(kinds(result).values())


def test_keep_alive_answers_are_counted_exactly(probe_script: Path) -> None:
    with serving("ok") as server:
        result = run_probe(
            probe_script,
            server.url(),
            *("--clients", "4", "--duration", "1"),
            *("--count-header", "X-Release", "--count-json-key", "release"),
        )
        answered = server.answered
    assert_consistent(result)
    assert result["ok"] == answered > 0
    assert result["failed"] == 0
    assert result["stale_retries"] == 0
    assert result["connections_opened"] == 4  # one keep-alive connection per client
    assert result["stopped_by"] == "duration"
    assert 1.0 <= result["duration_s"] < 2.0
    assert result["ready_at_s"] is not None
    assert 0 < result["p50_latency_s"] <= result["p99_latency_s"] <= result["max_latency_s"]
    assert result["longest_gap_s"] < 0.5
    assert result["first_failure_at_s"] is None
    assert result["failures"] == []
    answers_by = result["answers_by"]
    assert set(answers_by) == {"header:x-release", "json:release"}
    for counts in answers_by.values():
        assert set(counts) == set(RELEASES)
        assert sum(counts.values()) == answered


def test_a_paced_client_sends_at_its_rate(probe_script: Path) -> None:
    """--rate 20 for 2 clients over 2 s: about 80 requests, not as many as answers could come."""
    with serving("ok") as server:
        result = run_probe(
            probe_script, server.url(), *("--clients", "2", "--duration", "2", "--rate", "20")
        )
        answered = server.answered
    assert_consistent(result)
    assert result["failed"] == 0
    assert result["rate_per_client"] == 20
    assert result["ok"] == answered
    assert 60 <= answered <= 82, answered


def test_idle_keep_alive_closes_are_retried_not_failed(probe_script: Path) -> None:
    with serving("idle_close") as server:
        result = run_probe(probe_script, server.url(), "--clients", "4", "--duration", "1")
        answered = server.answered
    assert_consistent(result)
    assert result["failed"] == 0, result["failures"]
    assert result["stale_retries"] > 10
    assert result["ok"] == answered
    # Every new connection after the first four replaced one the server had closed.
    assert result["connections_opened"] == 4 + result["stale_retries"]


def test_connection_close_is_honoured_without_failure(probe_script: Path) -> None:
    with serving("close_header") as server:
        result = run_probe(probe_script, server.url(), "--clients", "2", "--duration", "1")
        answered = server.answered
    assert_consistent(result)
    assert result["failed"] == 0, result["failures"]
    assert result["stale_retries"] == 0
    assert result["ok"] == result["server_closes"] == result["connections_opened"] == answered


def test_a_pause_in_listening_is_refused_and_is_the_longest_gap(
    probe_script: Path, tmp_path: Path
) -> None:
    pause_s = 0.5
    with serving("ok") as server:
        process = start_probe(probe_script, tmp_path, server.url(), "--clients", "4")
        wait_for_file(tmp_path / "ready", process)
        time.sleep(0.1)
        server.pause(pause_s)
        time.sleep(0.2)
        (tmp_path / "stop").touch()
        result = finish(process, tmp_path)
    assert_consistent(result)
    assert kinds(result)["refused"] > 0
    assert result["longest_gap_s"] >= pause_s
    assert result["ready_at_s"] < result["first_failure_at_s"] <= result["last_failure_at_s"]
    assert result["stopped_by"] == "stop_file"
    assert {"at_s", "kind", "detail"} == set(result["failures"][0])


def test_503_answers_are_non_2xx_failures(probe_script: Path) -> None:
    with serving("status503") as server:
        result = run_probe(probe_script, server.url(), "--clients", "2", "--duration", "1")
    assert_consistent(result)
    assert result["ok"] == 0
    assert kinds(result)["non_2xx"] == result["failed"] == result["requests"] > 20
    assert result["non_2xx_statuses"] == {"503": result["requests"]}
    assert len(result["failures"]) == 20
    assert result["ready_at_s"] is None
    assert result["p99_latency_s"] is None
    assert result["longest_gap_s"] >= 1.0


def test_a_hung_server_times_out(probe_script: Path) -> None:
    with serving("hang") as server:
        result = run_probe(
            probe_script, server.url(), *("--clients", "2", "--duration", "1", "--timeout", "0.3")
        )
    assert_consistent(result)
    assert result["ok"] == 0
    # 0.3 s each, back to back (20 ms apart) for 1 s: at least 3 per client.
    assert kinds(result)["timeout"] == result["failed"] == result["requests"] >= 6
    assert result["first_failure_at_s"] >= 0.3
    # A request in flight at the end finishes (here: times out) before the result: at most
    # one more timeout, plus slack for a loaded machine.
    assert 1.0 <= result["duration_s"] < 1.0 + 0.3 + 0.5


def test_chunked_answers_after_an_interim_answer(probe_script: Path) -> None:
    with serving("chunked") as server:
        result = run_probe(
            probe_script,
            server.url(),
            *("--clients", "2", "--duration", "1", "--count-json-key", "release"),
        )
        answered = server.answered
    assert_consistent(result)
    assert result["failed"] == 0, result["failures"]
    assert result["ok"] == answered > 0
    assert result["connections_opened"] == 2
    # The server alternates the release, starting with RELEASES[1] for its first answer.
    assert result["answers_by"] == {
        "json:release": {RELEASES[0]: answered // 2, RELEASES[1]: answered - answered // 2}
    }


def test_answers_cut_short_are_resets(probe_script: Path) -> None:
    with serving("broken") as server:
        result = run_probe(probe_script, server.url(), "--clients", "2", "--duration", "1")
    assert_consistent(result)
    assert result["ok"] == 0
    assert kinds(result)["reset"] == result["failed"] == result["requests"] > 20
    # Each connection is new, so an EOF before any byte is a failure, not a stale retry.
    assert result["stale_retries"] == 0
    details = {failure["detail"] for failure in result["failures"]}
    assert "EOF before any byte of the answer on a new connection" in details
    assert any(detail.startswith("EOF after ") for detail in details), details


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--clients", "0"), "got 0"),
        (("--clients", "65"), "got 65"),
        (("--clients", "many"), "'many'"),
        (("--duration", "0.5"), "got 0.5"),
        (("--duration", "1801"), "got 1801"),
        (("--duration", "nan"), "got nan"),
        (("--timeout", "0"), "got 0"),
        (("--rate", "-1"), "got -1"),
        (("--rate", "1001"), "got 1001"),
        (("--url", "https://127.0.0.1/"), "'https://127.0.0.1/'"),
        (("--url", "http://127.0.0.1:99999/"), "99999"),
        (("--output", "/nonexistent-dir/result.json"), "/nonexistent-dir"),
    ],
)
def test_bad_arguments_exit_2_naming_the_value(
    probe_script: Path, args: tuple[str, ...], named: str
) -> None:
    url_args = () if "--url" in args else ("--url", "http://127.0.0.1:9/")
    completed = subprocess.run(
        [TARGET_PYTHON, str(probe_script), *url_args, *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert completed.returncode == 2
    assert named in completed.stderr, completed.stderr


def test_ready_file_then_stop_file(probe_script: Path, tmp_path: Path) -> None:
    with serving("ok") as server:
        process = start_probe(probe_script, tmp_path, server.url(), "--clients", "3")
        wait_for_file(tmp_path / "ready", process)
        ready = json.loads((tmp_path / "ready").read_text())
        assert ready["clients"] == 3
        stopped_at = time.monotonic()
        (tmp_path / "stop").touch()
        result = finish(process, tmp_path)
    assert time.monotonic() - stopped_at < 2.0
    assert result["stopped_by"] == "stop_file"
    assert result["ready_at_s"] == ready["ready_at_s"]
    assert result["failed"] == 0
    assert result["duration_s"] < 5.0


def test_sigterm_stops_and_writes_the_result(probe_script: Path, tmp_path: Path) -> None:
    with serving("ok") as server:
        process = start_probe(probe_script, tmp_path, server.url(), "--clients", "2")
        wait_for_file(tmp_path / "ready", process)
        process.send_signal(signal.SIGTERM)
        result = finish(process, tmp_path)
    assert result["stopped_by"] == "signal SIGTERM"
    assert result["ok"] > 0
    assert result["failed"] == 0


def ipv6_loopback_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not ipv6_loopback_available(), reason="this host has no IPv6 loopback (::1)")
def test_ipv6_literal_host(probe_script: Path) -> None:
    with serving("ok", host="::1") as server:
        result = run_probe(probe_script, server.url(), "--clients", "2", "--duration", "1")
        answered = server.answered
        host_headers = server.host_headers
    assert result["ok"] == answered > 0
    assert result["failed"] == 0
    assert host_headers == {f"[::1]:{server.port}"}


def test_benchreport_probe_subcommand(tmp_path: Path) -> None:
    """``python -m benchreport probe`` of this source tree (cwd: src/) runs the same probe."""
    with serving("ok") as server:
        completed = subprocess.run(
            [
                *(sys.executable, "-m", "benchreport", "probe", "--url", server.url()),
                *("--clients", "1", "--duration", "1", "--output", str(tmp_path / "r.json")),
            ],
            cwd=SRC_DIR,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
    assert completed.returncode == 0, completed.stderr
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["ok"] > 0
    assert result["failed"] == 0
    refused = subprocess.run(
        [sys.executable, "-m", "benchreport", "probe", "--url", server.url(), "--clients", "99"],
        cwd=SRC_DIR,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert refused.returncode == 2
    assert "python -m benchreport probe: error: --clients must be 1..64, got 99" in refused.stderr
