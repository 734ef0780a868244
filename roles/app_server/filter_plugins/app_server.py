"""Filters of the app_server role: what each requested server runs, resolved from the catalog.

The role publishes the result as the fact ``app_server_deployed``; the caddy and benchmark roles
read that fact instead of the catalog.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

# Sizing knobs every server has; a catalog entry's `knobs` adds its own (e.g. uWSGI's HTTP mode).
SIZING_KNOBS = ("workers", "threads", "instances")
# Catalog fields other roles and plays may read (published as the fact app_server_servers).
PUBLIC_FIELDS = ("interfaces", "packages")
# Knobs a caller may override on every server, besides the server's own.
COMMON_KNOBS = ("interface", *SIZING_KNOBS)


def app_server_local_address(bind_address: str) -> str:
    """The address a client on the host uses to reach a server bound to bind_address, ready for a
    URL: loopback when it listens on every address, brackets around an IPv6 literal."""
    if bind_address in ("", "0.0.0.0"):
        return "127.0.0.1"
    if bind_address == "::":
        return "[::1]"
    if ":" in bind_address:
        return f"[{bind_address}]"
    return bind_address


def app_server_listen(bind_address: str, port: int) -> str:
    """The host:port a server binds (every server's config, a systemd socket's ListenStream=):
    brackets around an IPv6 literal, every IPv4 address when bind_address is empty."""
    host = bind_address or "0.0.0.0"
    return f"[{host}]:{int(port)}" if ":" in host else f"{host}:{int(port)}"


def app_server_family(bind_address: str) -> str:
    """The address family of bind_address as a socket's domain names it: INET6 for an IPv6
    literal, INET for anything else (an IPv4 literal, or a name, which resolves to IPv4 first)."""
    return "INET6" if ":" in bind_address else "INET"


def app_server_tuned_knobs(entry: Mapping[str, Any], vcpus: int) -> dict[str, Any]:
    """The catalog's tuned knobs of one server on a host with `vcpus` vCPUs: `per_vcpu` workers
    (or instances, for a server without workers) per vCPU, its threads and its own knobs."""
    scaled = int(vcpus) * int(entry["per_vcpu"])
    return {
        "workers": scaled if entry["scales"] == "workers" else 1,
        "threads": int(entry["threads"]),
        "instances": scaled if entry["scales"] == "instances" else 1,
        **entry["knobs"],
    }


def app_server_deployments(
    requests: Iterable[Mapping[str, Any]],
    catalog: Mapping[str, Mapping[str, Any]],
    vcpus: int,
    overrides: Mapping[str, Any],
    *,
    bind_address: str,
    settings: Mapping[str, Any],
    timeouts: Mapping[str, int],
) -> list[dict[str, Any]]:
    """Resolve each request ({name, role, port, interface}; an empty interface lets the caller's
    `interface` override or the catalog's first choose) into the deployment that runs: its tuned
    knobs with the caller's overrides applied, the overrides that applied, its units and URL.
    `settings` are knobs every server shares (the listen backlog), recorded as given; `timeouts`
    (seconds: keep-alive, ready) are what a client of the deployment must know."""
    local_address = app_server_local_address(bind_address)
    deployments = []
    for request in requests:
        name = str(request["name"])
        entry = catalog[name]
        tuned = app_server_tuned_knobs(entry, vcpus)
        applied = {key: value for key, value in overrides.items() if key in tuned}
        interface = str(request["interface"])
        if not interface and overrides.get("interface"):
            interface = str(overrides["interface"])
            applied["interface"] = interface
        knobs = {**tuned, **applied, **settings}
        knobs.pop("interface", None)
        instances = int(knobs["instances"])
        if instances < 1:
            raise ValueError(f"deployment {name!r} needs at least one instance, got {instances}")
        url = f"http://{local_address}:{int(request['port'])}"
        deployments.append(
            {
                "name": name,
                "role": str(request["role"]),
                "interface": interface or str(entry["interfaces"][0]),
                "address": bind_address,
                "port": int(request["port"]),
                "listen": app_server_listen(bind_address, int(request["port"])),
                "family": app_server_family(bind_address),
                "url": url,
                "health_url": f"{url}/api/health",
                "knobs": knobs,
                "overrides": dict(sorted(applied.items())),
                "packages": list(entry["packages"]),
                "listen_socket": str(entry["listen_socket"]),
                **{f"{kind}_timeout": int(seconds) for kind, seconds in timeouts.items()},
            }
        )
    return deployments


def app_server_revision(
    deployment: Mapping[str, Any], release: str, checksums: Iterable[str]
) -> str:
    """The revision a deployment runs: 12 hex digits naming its release and the checksums of
    everything its processes read at start (unit, config and env files, launcher), so that any
    change to them is a new revision, started beside the old one."""
    text = "\n".join(
        [str(deployment["name"]), str(deployment["role"]), str(release), *map(str, checksums)]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def app_server_with_units(
    deployments: Iterable[Mapping[str, Any]],
    release: str,
    common_checksums: Iterable[str],
    *registered: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """Each deployment with its release, its revision and the units that run it
    (django-NAME@REVISION-N.service for N = 1..instances). The revision covers the files every
    deployment reads (`common_checksums`) and the deployment's own files: the checksum of each
    looped result in `registered` whose loop_var is app_server_deployment (a template's
    `checksum`, or a stat's `stat.checksum`: both SHA-1, so a rollback names the revision a
    deploy of the same release and files would)."""
    common = list(common_checksums)
    planned = []
    for deployment in deployments:
        own = [
            str(result.get("checksum") or result.get("stat", {}).get("checksum", ""))
            for results in registered
            for result in results.get("results", [])
            if result.get("app_server_deployment", {}).get("role") == deployment["role"]
        ]
        revision = app_server_revision(deployment, release, [*common, *own])
        instances = int(deployment["knobs"]["instances"])
        units = [
            f"django-{deployment['name']}@{revision}-{number}.service"
            for number in range(1, instances + 1)
        ]
        planned.append(
            {**deployment, "release": str(release), "revision": revision, "units": units}
        )
    return planned


def app_server_systemd_arg(value: object) -> str:
    """One command-line argument as systemd's ExecStart= reads it: % and $ doubled (no
    specifier or variable expansion), and in double quotes, with \\, " and line breaks
    escaped, when it holds white space, a quote, a backslash, a ; or nothing, so that it stays
    one argument."""
    text = str(value).replace("%", "%%").replace("$", "$$")
    if text and not any(char.isspace() or char in "\"'\\;" for char in text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t") + '"'


def app_server_public(catalog: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The part of the catalog others may read: each server's interfaces, packages and the
    knobs a caller may override."""
    return {
        name: {
            **{field: list(entry[field]) for field in PUBLIC_FIELDS},
            "knobs": [*COMMON_KNOBS, *entry["knobs"]],
        }
        for name, entry in catalog.items()
    }


def app_server_unit_limits(
    deployments: Iterable[Mapping[str, Any]],
    memtotal_mb: int,
    budget: Mapping[str, int],
) -> list[dict[str, Any]]:
    """Each deployment with its units' resource limits (`limits`: memory_max_mb, memory_high_mb,
    tasks_max), from its workers and threads per unit and the host's memory.

    A unit's memory budget is memory_base_mb + workers x (memory_per_worker_mb + threads x
    memory_per_thread_mb), capped by memory_host_percent of the host's memory shared evenly by
    every app unit on the host (no cap when memtotal_mb is 0, i.e. unknown); memory_high_mb is
    memory_high_percent of that. Its tasks are tasks_base + workers x (tasks_per_worker +
    threads). A non-zero memory_max_mb or tasks_max in `budget` replaces the computed value.
    Daphne's units are one instance each (workers 1), so every unit counts its own processes.
    """
    planned = [dict(deployment) for deployment in deployments]
    units_on_host = sum(int(deployment["knobs"]["instances"]) for deployment in planned) or 1
    ceiling_mb = int(memtotal_mb) * int(budget["memory_host_percent"]) // 100 // units_on_host
    for deployment in planned:
        workers = int(deployment["knobs"]["workers"])
        threads = int(deployment["knobs"]["threads"])
        memory_mb = int(budget["memory_base_mb"]) + workers * (
            int(budget["memory_per_worker_mb"]) + threads * int(budget["memory_per_thread_mb"])
        )
        if ceiling_mb > 0:
            memory_mb = min(memory_mb, ceiling_mb)
        memory_mb = int(budget["memory_max_mb"]) or memory_mb
        tasks = int(budget["tasks_base"]) + workers * (int(budget["tasks_per_worker"]) + threads)
        deployment["limits"] = {
            "memory_max_mb": memory_mb,
            "memory_high_mb": memory_mb * int(budget["memory_high_percent"]) // 100,
            "tasks_max": int(budget["tasks_max"]) or tasks,
        }
    return planned


def app_server_is_loopback(address: str) -> bool:
    """Whether a bind address (IPv4, IPv6 with or without brackets, or localhost) only listens
    on the host's loopback interface."""
    text = str(address).strip("[]")
    if text == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


class FilterModule:
    """Ansible entry point."""

    def filters(self) -> dict[str, Any]:
        return {
            "app_server_deployments": app_server_deployments,
            "app_server_is_loopback": app_server_is_loopback,
            "app_server_public": app_server_public,
            "app_server_with_units": app_server_with_units,
            "app_server_systemd_arg": app_server_systemd_arg,
            "app_server_unit_limits": app_server_unit_limits,
        }
