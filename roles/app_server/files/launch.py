#!/usr/bin/python3
"""Start one app server process of a revision: the units' ExecStart (the app_server role's).

    launch.py --revisions DIR --instance REVISION-N [--bind HOST:PORT [--listen N]] -- PROGRAM ARGS

It changes into DIR/REVISION (a link to the release the revision runs), sets the release's
environment (APP_RELEASE, APP_REVISION, DJANGO_STATIC_ROOT), replaces "{release_dir}" in ARGS and
executes PROGRAM from the release's venv in its own place (same PID, so systemd's main process and
sd_notify stay the server's).

With --bind it first binds the server's socket with SO_REUSEPORT and hands it over as file
descriptor 3 the way systemd's socket activation does (LISTEN_FDS=1, LISTEN_FDNAMES, LISTEN_PID):
servers that can adopt a socket (Uvicorn --fd, Hypercorn fd://, Daphne's systemd endpoint) then
share the port with the next revision's process during a handover, as the servers that bind with
SO_REUSEPORT themselves (uWSGI, Gunicorn, Granian) do. Without --listen the socket is only bound:
a server that calls listen() itself (asyncio's create_server does) gets no connection before its
app is loaded; with --listen N the launcher listens (backlog N) for a server that adopts only a
listening socket (Twisted). With net.ipv4.tcp_migrate_req, connections queued on a closing
listener move to another listener of the port instead of being reset.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import sys
from pathlib import Path

# systemd passes sockets from file descriptor 3 on (sd_listen_fds(3)).
LISTEN_FDS_START = 3
INSTANCE = re.compile(r"^(?P<revision>[0-9a-f]{12})-(?P<number>[1-9][0-9]*)$")


def bind(address: str, backlog: int) -> socket.socket:
    """A TCP socket bound to host:port ([v6]:port for IPv6) with SO_REUSEPORT set, listening when
    backlog is above 0."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if host != "::" else 0)
    sock.bind((host, int(port)))
    if backlog > 0:
        sock.listen(backlog)
    return sock


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", required=True, help="directory of the revision links")
    parser.add_argument("--instance", required=True, help="the unit's instance: REVISION-N")
    parser.add_argument("--bind", default="", help="host:port to bind and hand over as fd 3")
    parser.add_argument(
        "--listen", type=int, default=0, help="listen with this backlog (0: bind only)"
    )
    parser.add_argument("command", nargs="+", help="program in the venv's bin/ and its arguments")
    args = parser.parse_args(argv)

    match = INSTANCE.match(args.instance)
    if not match:
        parser.error(
            f"instance {args.instance!r} is not REVISION-N (12 hex digits, a dash, a number)"
        )
    release_dir = (Path(args.revisions) / match["revision"]).resolve(strict=True)
    os.chdir(release_dir)
    os.environ.update(
        APP_RELEASE=release_dir.name,
        APP_REVISION=match["revision"],
        APP_INSTANCE=match["number"],
        DJANGO_STATIC_ROOT=str(release_dir / "staticfiles"),
    )
    program = str(release_dir / ".venv" / "bin" / args.command[0])
    arguments = [arg.replace("{release_dir}", str(release_dir)) for arg in args.command[1:]]

    if args.bind:
        sock = bind(args.bind, args.listen)
        if sock.fileno() != LISTEN_FDS_START:
            os.dup2(sock.fileno(), LISTEN_FDS_START)
            sock.close()
        os.set_inheritable(LISTEN_FDS_START, True)
        os.environ.update(LISTEN_FDS="1", LISTEN_FDNAMES="app", LISTEN_PID=str(os.getpid()))
    sys.stdout.flush()
    os.execv(program, [program, *arguments])
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
