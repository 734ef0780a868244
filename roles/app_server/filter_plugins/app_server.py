"""Filters of the app_server role: names of the systemd units a deployment runs."""

from __future__ import annotations

from typing import Any


def app_server_unit_names(deployment: dict[str, Any]) -> list[str]:
    """Return the service instances of one deployment: django-<server>@1..N.service."""
    name = str(deployment["name"])
    instances = int(deployment["instances"])
    if instances < 1:
        raise ValueError(f"deployment {name!r} needs at least one instance, got {instances}")
    return [f"django-{name}@{number}.service" for number in range(1, instances + 1)]


class FilterModule:
    """Ansible entry point."""

    def filters(self) -> dict[str, Any]:
        return {"app_server_unit_names": app_server_unit_names}
