#!/usr/bin/python3
"""Take an app host out of Caddy's pool of upstreams, or tell whether it is in it.

Runs on a proxy host, as root, against Caddy's admin API on its unix socket:

    caddy_pool.py leave SOCKET ADDRESS   load the running config without ADDRESS's upstreams
    caddy_pool.py has SOCKET ADDRESS     exit 0 when an upstream of ADDRESS is in the pool

Loading a config is graceful: requests in flight finish on the config that took them. Putting
the host back is `systemctl reload caddy`: the Caddyfile lists every app host. A pool is never
left empty: ADDRESS stays where it is the only upstream (nothing else could serve).
Prints "changed" or "unchanged" for leave; exit status 2 on a usage or API error.
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
from collections.abc import Iterator
from typing import Any


class AdminConnection(http.client.HTTPConnection):
    """HTTP over Caddy's admin unix socket (Caddy accepts an empty Host there)."""

    def __init__(self, path: str) -> None:
        super().__init__("", timeout=30)
        self.socket_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


def admin(path: str, method: str, url: str, body: bytes | None = None) -> bytes:
    connection = AdminConnection(path)
    headers = {"Host": "", "Content-Type": "application/json"}
    connection.request(method, url, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    if response.status != 200:
        raise SystemExit(f"caddy_pool: {method} {url}: {response.status} {data.decode().strip()}")
    return data


def host_of(dial: str) -> str:
    """The host part of an upstream's dial address: 10.0.0.2:8000 or [fd00::2]:8000."""
    host = dial.rsplit(":", 1)[0]
    return host[1:-1] if host.startswith("[") else host


def proxy_handlers(node: Any) -> Iterator[dict[str, Any]]:
    """Every reverse_proxy handler of the config, wherever its routes nest it."""
    if isinstance(node, dict):
        if node.get("handler") == "reverse_proxy" and isinstance(node.get("upstreams"), list):
            yield node
        for value in node.values():
            yield from proxy_handlers(value)
    elif isinstance(node, list):
        for value in node:
            yield from proxy_handlers(value)


def leave(path: str, address: str) -> str:
    config = json.loads(admin(path, "GET", "/config/"))
    changed = False
    for handler in proxy_handlers(config):
        kept = [up for up in handler["upstreams"] if host_of(up.get("dial", "")) != address]
        if kept and len(kept) < len(handler["upstreams"]):
            handler["upstreams"] = kept
            changed = True
    if changed:
        admin(path, "POST", "/load", json.dumps(config).encode())
    return "changed" if changed else "unchanged"


def has(path: str, address: str) -> bool:
    config = json.loads(admin(path, "GET", "/config/"))
    return any(
        host_of(upstream.get("dial", "")) == address
        for handler in proxy_handlers(config)
        for upstream in handler["upstreams"]
    )


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[1] not in ("leave", "has"):
        print(__doc__, file=sys.stderr)
        return 2
    _, command, path, address = argv
    if command == "leave":
        print(leave(path, address))
        return 0
    return 0 if has(path, address) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
