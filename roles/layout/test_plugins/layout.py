"""Jinja tests of the layout role, for every role that checks a path, an address or a name it
writes to a host."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

# Letters, digits, '.', '_', '-' and '/': a path that lands as it is in unit files, command
# lines and configs, with nothing to quote.
PLAIN_PATH = re.compile(r"/[A-Za-z0-9._/-]*")


def layout_plain_path(value: object) -> bool:
    """An absolute path of plain characters and no '..' step."""
    text = str(value)
    return PLAIN_PATH.fullmatch(text) is not None and ".." not in text.split("/")


# A DNS label: letters, digits and inner hyphens, 1 to 63 characters.
DNS_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def layout_ip_address(value: object) -> bool:
    """An IPv4 or IPv6 literal, without brackets, zone or prefix length."""
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        return False
    return True


def layout_host_name(value: object) -> bool:
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
            "layout_plain_path": layout_plain_path,
            "layout_ip_address": layout_ip_address,
            "layout_host_name": layout_host_name,
        }
