"""Daphne with a graceful stop: the units' command for Daphne (app_server role).

    <release venv>/bin/python daphne_drain.py --drain-timeout SECONDS -- DAPHNE_ARGUMENTS

Daphne stops on SIGTERM by cancelling every application instance still running (its Server
cancels them before the reactor shuts down), so a request in flight is cut. This runs Daphne's
own command line with a Server that drains instead: on SIGTERM it stops listening (the port's
other listeners take the new connections, and net.ipv4.tcp_migrate_req moves those queued on
this one there), waits until every request in flight has been answered, at most SECONDS, and
then stops the reactor as Daphne does.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.server import Server
from twisted.internet import reactor

# How often a draining server looks at its requests in flight.
POLL_SECONDS = 0.05


class DrainingServer(Server):  # type: ignore[misc]
    """Daphne's Server with a drain on SIGTERM instead of an abrupt stop."""

    drain_timeout = 10.0

    def run(self) -> None:
        self.ports: list[Any] = []
        self.drain_deadline: float | None = None
        # After the reactor's own handlers are in place, so this one replaces its SIGTERM.
        reactor.callWhenRunning(signal.signal, signal.SIGTERM, self._on_sigterm)
        super().run()

    def listen_success(self, port: Any) -> None:  # a Twisted listening port
        self.ports.append(port)
        super().listen_success(port)

    def _on_sigterm(self, signum: int, frame: object) -> None:
        reactor.callFromThread(self.drain)

    def drain(self) -> None:
        """Stop taking connections, then stop once nothing is in flight."""
        if self.drain_deadline is not None:
            return
        self.drain_deadline = time.monotonic() + self.drain_timeout
        for port in self.ports:
            port.stopListening()
        self._stop_when_drained()

    def in_flight(self) -> int:
        """Requests (and WebSockets) whose connection has not finished yet."""
        return sum(1 for details in self.connections.values() if "disconnected" not in details)

    def _stop_when_drained(self) -> None:
        assert self.drain_deadline is not None
        if self.in_flight() and time.monotonic() < self.drain_deadline:
            reactor.callLater(POLL_SECONDS, self._stop_when_drained)
            return
        self.stop()


class DrainingCommandLine(CommandLineInterface):  # type: ignore[misc]
    server_class = DrainingServer


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drain-timeout", type=float, required=True, help="seconds, above 0")
    parser.add_argument("daphne", nargs=argparse.REMAINDER, help="-- and Daphne's arguments")
    args = parser.parse_args(argv)
    if args.drain_timeout <= 0:
        parser.error(f"--drain-timeout must be above 0, not {args.drain_timeout}")
    DrainingServer.drain_timeout = args.drain_timeout
    daphne_args = args.daphne[1:] if args.daphne[:1] == ["--"] else args.daphne
    DrainingCommandLine().run(daphne_args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
