"""Jinja filters of the base role."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def base_port_list(ports: Iterable[object]) -> str:
    """Ports as the kernel writes a port list (net.ipv4.ip_local_reserved_ports): sorted, each
    run of consecutive ports as one range, 0 left out, e.g. "443,6379,8000-8001". Written the
    kernel's way, the running value compares equal and a second run changes nothing."""
    numbers = sorted({int(str(port)) for port in ports} - {0})
    runs: list[list[int]] = []
    for number in numbers:
        if runs and runs[-1][1] + 1 == number:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return ",".join(str(first) if first == last else f"{first}-{last}" for first, last in runs)


class FilterModule:
    """Ansible entry point."""

    def filters(self) -> dict[str, Any]:
        return {"base_port_list": base_port_list}
