#!/usr/bin/python3
"""Stop a server whose main process outlives its workers: the units' ExecStop (app_server role).

    stop.py --signal SIGTERM MAINPID

It sends the stop signal to the main process, waits until the main process has no child left
(its workers have finished their requests and exited), then kills the main process at once
instead of letting it exit on its own.

uWSGI needs this: after a graceful shutdown its master buries the workers and the HTTP router
but exits only on its next master cycle, up to a second later, and it holds the listening socket
until then. Connections the kernel queues on that socket meanwhile wait for it (the next
revision's socket on the same port would have answered them); once the socket closes,
net.ipv4.tcp_migrate_req moves them to that socket. With nothing left to drain, ending the
master is safe.

The unit counts SIGKILL of the main process as a clean exit (SuccessExitStatus) and still
restarts on it outside a stop (RestartForceExitStatus), so a kill -9 crash restarts as before.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

# How often the main process's children are looked at (the drain takes tenths of seconds).
POLL_SECONDS = 0.01


def children(pid: int) -> list[int] | None:
    """The child processes of pid (of all its threads), or None once pid has exited (gone, or a
    zombie its parent has not reaped yet)."""
    proc = Path(f"/proc/{pid}")
    try:
        # The state follows the command name, which may hold spaces and parentheses.
        if proc.joinpath("stat").read_text().rpartition(")")[2].split()[0] == "Z":
            return None
        found: list[int] = []
        for task in proc.joinpath("task").iterdir():
            found.extend(int(child) for child in (task / "children").read_text().split())
    except (FileNotFoundError, ProcessLookupError):
        return None
    return found


def stop(pid: int, signum: int) -> None:
    """Signal pid, wait until it has no children, then kill it; return once it is gone."""
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return
    while (left := children(pid)) is not None and left:
        time.sleep(POLL_SECONDS)
    if left is None:
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    while children(pid) is not None:
        time.sleep(POLL_SECONDS)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signal", default="SIGTERM", help="the server's stop signal")
    parser.add_argument("pid", type=int, help="the unit's main process ($MAINPID)")
    args = parser.parse_args(argv)
    try:
        signum = signal.Signals[args.signal]
    except KeyError:
        parser.error(f"unknown signal {args.signal!r}")
    if args.pid <= 1:
        parser.error(f"no main process to stop (pid {args.pid})")
    stop(args.pid, signum)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
