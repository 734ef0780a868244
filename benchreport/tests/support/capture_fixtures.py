"""Re-capture the committed fixtures in tests/fixtures/ from REAL wrk runs.

    cd /work/main/benchreport && ../.venv/bin/python -m tests.support.capture_fixtures

Each "server" is one of the test servers in httpserver.py wearing a real server's name and
interface, so the report's study column and ordering are exercised; its knobs say what it
really is (one process, its mode). tests/fixtures/README.md says which is which. run_load.py
drives real wrk, samples the test server by --pid and runs the fairness probe.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import TARGET_DIR, TARGET_PYTHON, running_server

FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures"


@dataclass(frozen=True)
class StandIn:
    """A test server standing in for an app server in the captured runs."""

    server: str  # the app server's name it wears
    interface: str
    mode: str  # httpserver.py's mode: fair, starving, errors or close
    endpoints: tuple[str, ...]


SET_A = (
    StandIn("uwsgi", "wsgi", "starving", ("ping",)),
    StandIn("gunicorn", "wsgi", "fair", ("ping", "db")),
    StandIn("granian", "asgi", "close", ("ping", "db")),
    StandIn("uvicorn", "asgi", "errors", ("ping",)),
)
SET_B = (
    StandIn("uwsgi", "wsgi", "fair", ("ping",)),
    StandIn("gunicorn", "wsgi", "fair", ("ping", "db")),
    StandIn("granian", "asgi", "close", ("ping",)),
    StandIn("uvicorn", "asgi", "errors", ("ping",)),
)


def capture_run(
    output: Path, stand_in: StandIn, endpoint: str, *, round_number: int, connections: int
) -> None:
    with running_server(stand_in.mode) as running:
        command = [
            TARGET_PYTHON,
            str(TARGET_DIR / "run_load.py"),
            "--output",
            str(output),
            "--url",
            running.url(f"/{endpoint}/"),
            "--server",
            stand_in.server,
            "--interface",
            stand_in.interface,
            "--knobs",
            json.dumps({"workers": 1, "mode": stand_in.mode}),
            "--endpoint",
            endpoint,
            "--round",
            str(round_number),
            "--threads",
            "2",
            "--connections",
            str(connections),
            "--duration",
            "1s",
            "--pid",
            str(running.pid),
            "--interval-ms",
            "100",
            "--probe-duration",
            "1",
            "--probe-timeout",
            "5",
        ]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            sys.exit(f"capture failed for {stand_in.server}/{endpoint}: {completed.stderr}")
        print(completed.stdout.strip())


def capture_set(
    name: str, stand_ins: tuple[StandIn, ...], rounds: int, connections: int, hostname: str
) -> None:
    directory = FIXTURES_DIR / name
    shutil.rmtree(directory, ignore_errors=True)
    (directory / "runs").mkdir(parents=True)
    for round_number in range(1, rounds + 1):  # interleaved: every server, then again
        for stand_in in stand_ins:
            for endpoint in stand_in.endpoints:
                output = directory / "runs" / f"r{round_number}-{stand_in.server}-{endpoint}.json"
                capture_run(
                    output, stand_in, endpoint, round_number=round_number, connections=connections
                )
    subprocess.run(
        [
            TARGET_PYTHON,
            str(TARGET_DIR / "collect_facts.py"),
            "--host-output",
            str(directory / "host.json"),
            "--versions-output",
            str(directory / "versions.json"),
            *(f"--server={stand_in.server}" for stand_in in stand_ins),
        ],
        check=True,
    )
    # The machine's hostname is meaningless in a fixture; name the set instead.
    host = json.loads((directory / "host.json").read_text())
    host["hostname"] = hostname
    (directory / "host.json").write_text(json.dumps(host, indent=2) + "\n")


def main() -> None:
    capture_set("results-a", SET_A, rounds=2, connections=8, hostname="fixture-a")
    capture_set("results-b", SET_B, rounds=1, connections=16, hostname="fixture-b")


if __name__ == "__main__":
    main()
