"""Re-capture the committed fixtures in tests/fixtures/ from REAL wrk runs.

    cd /work/main && /tmp/venv-report/bin/python -m benchreport.tests.support.capture_fixtures

Each "server" is one of the test servers in httpserver.py wearing a real server's name, so the
report's study column and ordering are exercised; tests/fixtures/README.md says which is which.
run_load.py drives real wrk, samples the test server by --pid and runs the fairness probe.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from benchreport.tests.support.servers import TARGET_DIR, TARGET_PYTHON, running_server

FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures"

# (label, test server mode, endpoints): the modes give a fair, a starving, an erroring and a
# connection-closing server.
SET_A = (
    ("uwsgi", "starving", ("ping",)),
    ("gunicorn", "fair", ("ping", "db")),
    ("granian", "close", ("ping", "db")),
    ("uvicorn", "errors", ("ping",)),
)
SET_B = (
    ("uwsgi", "fair", ("ping",)),
    ("gunicorn", "fair", ("ping", "db")),
    ("granian", "close", ("ping",)),
    ("uvicorn", "errors", ("ping",)),
)


def capture_run(
    output: Path, server: str, mode: str, endpoint: str, *, round_number: int, connections: int
) -> None:
    with running_server(mode) as running:
        command = [
            TARGET_PYTHON,
            str(TARGET_DIR / "run_load.py"),
            "--output",
            str(output),
            "--url",
            running.url(f"/{endpoint}/"),
            "--server",
            server,
            "--endpoint",
            endpoint,
            "--round",
            str(round_number),
            "--config",
            f"test server, mode {mode}",
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
            sys.exit(f"capture failed for {server}/{endpoint}: {completed.stderr}")
        print(completed.stdout.strip())


def capture_set(name: str, servers: tuple, rounds: int, connections: int, hostname: str) -> None:
    directory = FIXTURES_DIR / name
    shutil.rmtree(directory, ignore_errors=True)
    (directory / "runs").mkdir(parents=True)
    for round_number in range(1, rounds + 1):  # interleaved: every server, then again
        for server, mode, endpoint_names in servers:
            for endpoint in endpoint_names:
                output = directory / "runs" / f"r{round_number}-{server}-{endpoint}.json"
                capture_run(
                    output,
                    server,
                    mode,
                    endpoint,
                    round_number=round_number,
                    connections=connections,
                )
    subprocess.run(
        [
            TARGET_PYTHON,
            str(TARGET_DIR / "collect_facts.py"),
            "--host-output",
            str(directory / "host.json"),
            "--versions-output",
            str(directory / "versions.json"),
            *(f"--server={server}" for server, _, _ in servers),
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
