"""The ExecStop of servers whose main process exits late (roles/app_server/files/stop.py), run
against a stand-in master: a process that, on SIGTERM, lets its worker finish and then lingers
as uWSGI's master does, holding a listening socket."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from conftest import ROLES_DIR

STOPPER = ROLES_DIR / "app_server" / "files" / "stop.py"
# A stand-in master: it listens, starts a worker, and on SIGTERM tells the worker to finish (the
# worker writes "drained" after a short request), waits for it, then lingers for a minute
# before exiting with 0.
FAKE_MASTER = """
import os, signal, socket, subprocess, sys, time
out, linger = sys.argv[1], float(sys.argv[2])
listener = socket.create_server(("127.0.0.1", 0))
worker = subprocess.Popen([sys.executable, "-c",
    "import signal, sys, time; "
    "signal.signal(signal.SIGTERM, lambda *_: (time.sleep(0.3), "
    "open(sys.argv[1], 'a').write('drained\\\\n'), sys.exit(0))); "
    "signal.pause()", out])
def terminate(*_):
    worker.terminate()
    worker.wait()
    time.sleep(linger)
    sys.exit(0)
signal.signal(signal.SIGTERM, terminate)
with open(out, "a") as f:
    f.write(f"ready {listener.getsockname()[1]}\\n")
signal.pause()
"""


def start_master(tmp_path: Path, linger: float) -> tuple[subprocess.Popen[bytes], Path]:
    out = tmp_path / "events"
    out.touch()
    master = subprocess.Popen([sys.executable, "-c", FAKE_MASTER, str(out), str(linger)])
    while "ready" not in out.read_text():
        assert master.poll() is None, "the stand-in master died before it was ready"
        time.sleep(0.05)
    return master, out


def stop(pid: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(STOPPER), "--signal", "SIGTERM", str(pid)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_ends_a_lingering_master_once_its_worker_has_drained(tmp_path: Path) -> None:
    master, events = start_master(tmp_path, linger=60)
    port = int(events.read_text().split()[1])
    done = stop(master.pid)
    assert done.returncode == 0, done.stderr
    # The worker finished first; the master was killed, not left to linger for its minute.
    assert "drained" in events.read_text()
    assert master.wait(timeout=5) == -signal.SIGKILL
    # Its listening socket is closed: the port refuses.
    with socket.socket() as client:
        assert client.connect_ex(("127.0.0.1", port)) != 0


def test_returns_when_the_main_process_is_already_gone(tmp_path: Path) -> None:
    master, _ = start_master(tmp_path, linger=0)
    master.kill()
    master.wait()
    done = stop(master.pid)
    assert done.returncode == 0, done.stderr


def test_refuses_no_main_process() -> None:
    done = stop(0)
    assert done.returncode == 2
    assert "no main process to stop (pid 0)" in done.stderr
