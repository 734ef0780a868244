"""Jinja tests of the app_server role: what a bind address may be."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

# A DNS label: letters, digits and inner hyphens, 1 to 63 characters.
DNS_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def app_server_ip_address(value: object) -> bool:
    """An IPv4 or IPv6 literal, without brackets, zone or prefix length."""
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def app_server_host_name(value: object) -> bool:
    """A DNS name (dot-separated labels, at most 253 characters) that is not all digits and
    dots, so that a malformed IPv4 address does not pass as a name."""
    text = str(value)
    labels = text.split(".")
    return (
        0 < len(text) <= 253
        and all(DNS_LABEL.fullmatch(label) for label in labels)
        and not all(label.isdigit() for label in labels)
    )


class TestModule:
    """Ansible entry point."""

    def tests(self) -> dict[str, Any]:
        return {
            "app_server_ip_address": app_server_ip_address,
            "app_server_host_name": app_server_host_name,
        }
