"""Jinja tests of the firewall role: which sources nft takes, and in which family."""

from __future__ import annotations

import ipaddress
from typing import Any


def _network(value: object) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """An address or a network in CIDR notation with no host bits set, else None."""
    try:
        return ipaddress.ip_network(str(value), strict=True)
    except ValueError:
        return None


def firewall_address(value: object) -> bool:
    """An IPv4 or IPv6 address, or a network (CIDR, host bits zero): what nft matches as saddr."""
    return _network(value) is not None


def firewall_ipv4(value: object) -> bool:
    """An IPv4 address or network (an `ip saddr` of nft)."""
    network = _network(value)
    return network is not None and network.version == 4


def firewall_ipv6(value: object) -> bool:
    """An IPv6 address or network (an `ip6 saddr` of nft)."""
    network = _network(value)
    return network is not None and network.version == 6


class TestModule:
    """Ansible entry point."""

    def tests(self) -> dict[str, Any]:
        return {
            "firewall_address": firewall_address,
            "firewall_ipv4": firewall_ipv4,
            "firewall_ipv6": firewall_ipv6,
        }
