"""The layout each host of the caddy scenario runs now, read before the tests are collected.

The scenario verifies twice: after converge (the inventory's server, async_server and caddy)
and after side_effect (each host's switch_* values, marked by SWITCHED_MARK on the host).
Knowing the layout at collection time lets each test module pick exactly the hosts it is
about, so no test is skipped.
"""

from __future__ import annotations

from testinfra.host import Host

import os
from dataclasses import dataclass

import testinfra.utils.ansible_runner

SWITCHED_MARK = "/var/tmp/dsl-caddy-switched"
ASYNC_ENDPOINTS = {"/api/health/async"}
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]


@dataclass(frozen=True)
class Layout:
    """What should run on one host now."""

    server: str
    async_server: str
    caddy: bool
    switched: bool

    def server_for(self, path: str) -> str:
        """The server that must answer path through Caddy."""
        if self.async_server and (path.startswith("/ws/") or path in ASYNC_ENDPOINTS):
            return self.async_server
        return self.server


def _read_layouts() -> dict[str, Layout]:
    runner = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
    layouts = {}
    for name in runner.get_hosts("all"):
        variables = runner.get_variables(name)
        switched = runner.get_host(name).file(SWITCHED_MARK).exists
        prefix = "switch_" if switched else ""
        layouts[name] = Layout(
            server=str(variables["server"]),
            async_server=str(variables.get(f"{prefix}async_server", "") or ""),
            caddy=bool(variables.get(f"{prefix}caddy", False)),
            switched=switched,
        )
    return layouts


LAYOUTS = _read_layouts()
ALL_HOSTS = list(LAYOUTS)
CADDY_HOSTS = [name for name, layout in LAYOUTS.items() if layout.caddy]


def layout_of(host: Host) -> Layout:
    """The layout of a testinfra host (ansible backend: its inventory name)."""
    return LAYOUTS[host.backend.get_hostname()]
