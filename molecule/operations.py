"""Operations on a deployed host under load: the project's load probe runs on the host while
the controller runs a playbook (a redeploy, a switch, a rollback) or a command, and the probe's
counts say what the clients saw. Shared by the scenarios that prove zero downtime."""

from __future__ import annotations

from testinfra.host import Host

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conftest import LAYOUT, LOAD_PROBE, REMOTE_PROBES_DIR, copy_probes, deployment_of

PROJECT_DIR = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).parents[1]))
# Bounds of every probe run: clients, requests per second per client and seconds. A light load
# (80 requests/s per probe) that a stall or a refused connection still shows within 0.1 s, and
# that leaves the 2 cores to the operation when six hosts are loaded at once.
PROBE_CLIENTS = 8
PROBE_RATE = 10
# A playbook run of these tests (a converge under load on 2 cores) ends within this.
PLAYBOOK_TIMEOUT_SECONDS = 900
# A probe is stopped when its operation ends; it outlasts the longest one it can watch.
PROBE_MAX_SECONDS = PLAYBOOK_TIMEOUT_SECONDS + 60
# How long a probe may take to have every client answered, and to write its result.
PROBE_WAIT_SECONDS = 60


@dataclass
class Measured:
    """One operation as the probes saw it, by probe name (e.g. direct, caddy)."""

    operation: str
    server: str
    seconds: float
    returncode: int
    output: str
    probes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """What docs/zero-downtime.md tabulates."""
        return {
            "operation": self.operation,
            "server": self.server,
            "seconds": round(self.seconds, 1),
            "returncode": self.returncode,
            "probes": {
                name: {
                    key: result[key]
                    for key in (
                        "requests",
                        "failed",
                        "failed_by_kind",
                        "stale_retries",
                        "longest_gap_s",
                        "max_latency_s",
                        "p99_latency_s",
                        "answers_by",
                    )
                }
                for name, result in self.probes.items()
            },
        }


def record(measured: Measured) -> None:
    """Append the operation's row to the log the docs' table is made from."""
    log = Path(
        os.environ.get("DSL_ZERO_DOWNTIME_LOG")
        or Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp")) / "zero-downtime.jsonl"
    )
    with log.open("a", encoding="utf-8") as stream:
        stream.write(json.dumps(measured.row()) + "\n")


def run_playbook(playbook: str, *args: str) -> tuple[int, str, float]:
    """ansible-playbook PROJECT/playbook against the scenario's inventory, as a user runs it:
    its exit code, its whole output and its duration in seconds."""
    program = Path(sys.executable).parent / "ansible-playbook"
    command = [
        str(program if program.exists() else shutil.which("ansible-playbook")),
        "-i",
        os.environ["MOLECULE_INVENTORY_FILE"],
        str(PROJECT_DIR / playbook),
        *args,
    ]
    started = time.monotonic()
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        env={**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"},
        timeout=PLAYBOOK_TIMEOUT_SECONDS,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def release_source(directory: Path, mark: str, *, broken: bool = False) -> Path:
    """A copy of the app whose release differs from every other (a marker file): a code change.
    `broken`: its WSGI and ASGI entry points raise, so no server can load it, while manage.py
    (settings, migrations) still works."""
    source = directory / "app"
    shutil.copytree(
        PROJECT_DIR / "app",
        source,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", "*.sqlite3*"),
    )
    (source / "RELEASE_MARK").write_text(mark + "\n", encoding="utf-8")
    if broken:
        for entry_point in ("wsgi.py", "asgi.py"):
            with (source / "config" / entry_point).open("a", encoding="utf-8") as stream:
                stream.write('\nraise RuntimeError("a broken release, on purpose")\n')
    return source


# What the probes ask: the view that checks the database and Redis (a request that goes through
# the whole app), or the liveness view (no I/O: only the server's handover can fail it).
PROBE_PATH = "/api/health/sync"
LIVENESS_PATH = "/api/health"


def probe_urls(host: Host, path: str = PROBE_PATH) -> dict[str, str]:
    """Where the probes load a host: Caddy's plain-HTTP site (on loopback) and the server's own
    port."""
    return {
        "caddy": f"http://127.0.0.1:{LAYOUT['layout_http_port']}{path}",
        "direct": f"{deployment_of(host).base_url}{path}",
    }


def _remote(name: str, suffix: str) -> str:
    return f"{REMOTE_PROBES_DIR}/load-{name}.{suffix}"


def launch_probes(host: Host, urls: dict[str, str]) -> None:
    """Start a load probe per name (-> URL) on the host, each a transient unit, in one command
    (a unit of the same name left running by an interrupted run is stopped first). They are
    loading once wait_until_ready() returns."""
    if not host.file(f"{REMOTE_PROBES_DIR}/{LOAD_PROBE.name}").exists:
        copy_probes(host)
    commands = []
    for name, url in urls.items():
        unit = f"dsl-probe-{name}"
        command = [
            "systemd-run",
            f"--unit={unit}",
            "--collect",
            f"--property=RuntimeMaxSec={PROBE_MAX_SECONDS + 60}",
            "/usr/bin/python3",
            f"{REMOTE_PROBES_DIR}/{LOAD_PROBE.name}",
            f"--url={url}",
            f"--clients={PROBE_CLIENTS}",
            f"--rate={PROBE_RATE}",
            f"--duration={PROBE_MAX_SECONDS}",
            f"--stop-file={_remote(name, 'stop')}",
            f"--ready-file={_remote(name, 'ready')}",
            f"--output={_remote(name, 'json')}",
            "--count-header=X-App-Release",
        ]
        commands.append(
            f"{{ systemctl stop {unit} 2>/dev/null; rm -f {_remote(name, '*')}"
            f" && {shlex.join(command)}; }}"
        )
    with host.sudo():
        launched = host.run(" && ".join(commands))
        if launched.rc != 0:
            host.run(f"systemctl stop {' '.join(f'dsl-probe-{name}' for name in urls)}")
    assert launched.rc == 0, f"probes {list(urls)} did not start: {launched.stderr}"


def wait_until_ready(host: Host, urls: dict[str, str]) -> None:
    """Wait until every client of each probe (name -> URL) started on the host has had an
    answer."""
    ready = " && ".join(f"[ -e {_remote(name, 'ready')} ]" for name in urls)
    with host.sudo():
        waited = host.run(
            f"timeout {PROBE_WAIT_SECONDS} sh -c "
            + shlex.quote(f"until {ready}; do sleep 0.1; done")
        )
    if waited.rc != 0:
        missing = {
            name: url for name, url in urls.items() if not host.file(_remote(name, "ready")).exists
        }
        raise AssertionError(f"probes {missing}: not every client was answered")


def start_probe(host: Host, name: str, url: str) -> None:
    """Start the load probe on the host as a transient unit and wait until every client has had
    an answer."""
    launch_probes(host, {name: url})
    wait_until_ready(host, {name: url})


def request_stop(host: Host, names: list[str]) -> None:
    """Tell the host's probes to stop (each writes its result and ends)."""
    with host.sudo():
        host.run_expect([0], "touch " + " ".join(_remote(name, "stop") for name in names))


def collect_results(host: Host, names: list[str]) -> dict[str, dict[str, Any]]:
    """Wait until the host's probes told to stop have ended; their results by name."""
    units = " ".join(f"dsl-probe-{name}" for name in names)
    with host.sudo():
        waited = host.run(
            f"timeout {PROBE_WAIT_SECONDS} sh -c "
            + shlex.quote(f"while systemctl is-active --quiet {units}; do sleep 0.1; done")
        )
        assert waited.rc == 0, f"probes {names} did not stop"
        results = {}
        for name in names:
            output = host.run(f"cat {_remote(name, 'json')}")
            if output.rc != 0:
                journal = host.run(f"journalctl --no-pager --lines=5 --unit=dsl-probe-{name}")
                raise AssertionError(f"probe {name} left no result: {journal.stdout}")
            results[name] = json.loads(output.stdout)
    return results


def stop_probe(host: Host, name: str) -> dict[str, Any]:
    """Stop the probe, wait for its unit to end and return its result."""
    request_stop(host, [name])
    return collect_results(host, [name])[name]


@contextmanager
def under_load(host: Host, urls: dict[str, str]) -> Iterator[dict[str, dict[str, Any]]]:
    """Probes (name -> URL) load the host while the body runs; the yielded dict holds their
    results once the body is done. They start together, and stop together: none is left running
    when a start fails."""
    results: dict[str, dict[str, Any]] = {}
    launch_probes(host, urls)
    try:
        wait_until_ready(host, urls)
        yield results
    finally:
        request_stop(host, list(urls))
        results.update(collect_results(host, list(urls)))


def measure(
    host: Host,
    operation: str,
    server: str,
    urls: dict[str, str],
    act: Callable[[], tuple[int, str, float]],
) -> Measured:
    """Run `act` (returns exit code, output, seconds) under the probes and record the row."""
    with under_load(host, urls) as results:
        returncode, output, seconds = act()
    measured = Measured(operation, server, seconds, returncode, output, results)
    record(measured)
    return measured


def failures(measured: Measured, probe: str) -> str:
    """The probe's failures, for an assertion message."""
    result = measured.probes[probe]
    return (
        f"{measured.operation} ({measured.server}), probe {probe}: {result['failed']} of "
        f"{result['requests']} failed {result['failed_by_kind']}; first: {result['failures'][:3]}"
    )
