"""Jinja tests of the postgresql role: what pg_hba.conf admits and what stays on the host."""

from __future__ import annotations

import ipaddress
from typing import Any


def _network(value: object) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """An address (that one host) or a network in CIDR notation with no host bits set, else
    None."""
    try:
        return ipaddress.ip_network(str(value), strict=True)
    except ValueError:
        return None


def postgresql_network(value: object) -> bool:
    """An IPv4 or IPv6 address or network (CIDR, host bits zero): a pg_hba.conf ADDRESS."""
    return _network(value) is not None


def postgresql_loopback(value: object) -> bool:
    """localhost, or a loopback address or network (127.0.0.0/8, ::1): reachable from this host
    only."""
    if str(value).lower() == "localhost":
        return True
    network = _network(value)
    return network is not None and network.is_loopback


class TestModule:
    """Ansible entry point."""

    def tests(self) -> dict[str, Any]:
        return {
            "postgresql_network": postgresql_network,
            "postgresql_loopback": postgresql_loopback,
        }
