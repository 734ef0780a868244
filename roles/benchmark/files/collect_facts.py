#!/usr/bin/env python3
"""Write host.json and versions.json for a results directory (benchreport/SCHEMA.md).

Stdlib only; runs on the target. Package versions are read with importlib.metadata by the
Python interpreter(s) given with --python (the app's venvs), not by this script's own Python.

    collect_facts.py --host-output host.json --versions-output versions.json \
        --python /srv/django-server-lab/current/venv/bin/python \
        --server uwsgi --server gunicorn --server granian --server uvicorn \
        --server hypercorn --server daphne
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys

NOT_FOUND = "not found"
VERSIONS_SNIPPET = """
import importlib.metadata as metadata, json, platform, sys
found = {}
for name in sys.argv[1:]:
    try:
        found[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
        found[name] = None
print(json.dumps({"python": platform.python_version(), "packages": found}))
"""


def read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


def cpu_model() -> str:
    for line in read_text("/proc/cpuinfo").splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("model name", "Hardware", "Processor", "cpu model") and value.strip():
            return value.strip()
    return platform.processor() or platform.machine() or "unknown"


def memory_bytes() -> int:
    for line in read_text("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return 0


def os_name() -> str:
    for line in read_text("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return platform.platform()


def run_text(command: list[str]) -> str:
    """stdout of a command, or '' when it cannot run (its exit code is ignored on purpose:
    `wrk -v` prints its version and then exits 1 with the usage text)."""
    if not shutil.which(command[0]):
        return ""
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return completed.stdout.strip()


def host_facts(added: dict[str, str] | None = None) -> dict[str, object]:
    extra: dict[str, str | None] = {
        "architecture": platform.machine(),
        "virtualization": run_text(["systemd-detect-virt"]) or None,
        "cgroup": "v2" if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else "v1",
        "usable_cpus": str(len(os.sched_getaffinity(0))),
        **(added or {}),
    }
    return {
        "hostname": socket.gethostname(),
        "cpu_model": cpu_model(),
        "vcpus": os.cpu_count() or 1,
        "memory_bytes": memory_bytes(),
        "kernel": platform.release(),
        "os": os_name(),
        "extra": extra,
    }


def wrk_version(wrk: str) -> str:
    first_line = (run_text([wrk, "-v"]).splitlines() or [""])[0]
    parts = first_line.split()  # "wrk debian/4.1.0-3+b2 [epoll] Copyright ..."
    return parts[1] if len(parts) > 1 and parts[0] == "wrk" else NOT_FOUND


def package_versions(pythons: list[str], packages: list[str]) -> tuple[str, dict[str, str | None]]:
    """(version of the first interpreter, {package: version}) taking, for each package, the
    first interpreter that has it."""
    python_version = ""
    found: dict[str, str | None] = dict.fromkeys(packages)
    for python in pythons:
        output = run_text([python, "-c", VERSIONS_SNIPPET, *packages])
        if not output:
            print(f"collect_facts: cannot run {python}", file=sys.stderr)
            continue
        document = json.loads(output)
        python_version = python_version or document["python"]
        for name, version in document["packages"].items():
            if found.get(name) is None and version is not None:
                found[name] = version
    return python_version or NOT_FOUND, found


def versions(
    pythons: list[str], servers: list[str], packages: list[str], wrk: str, wrk_given: str = ""
) -> dict[str, object]:
    server_packages = {}
    for spec in servers:
        name, _, package = spec.partition("=")
        server_packages[name] = package or name
    wanted = ["django", *server_packages.values(), *packages]
    python_version, found = package_versions(pythons, list(dict.fromkeys(wanted)))
    return {
        "python": python_version,
        "django": found.get("django") or NOT_FOUND,
        "wrk": wrk_given or wrk_version(wrk),
        "servers": {name: found.get(package) for name, package in server_packages.items()},
        "packages": {name: found.get(name) for name in packages},
    }


def read_json(path: str) -> dict[str, object]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def merge_versions(old: dict[str, object], new: dict[str, object]) -> dict[str, object]:
    """New values win, except that a version found earlier is not replaced by "not found"."""
    merged = dict(old)
    for key in ("python", "django", "wrk"):
        if new.get(key) != NOT_FOUND or key not in old:
            merged[key] = new[key]
    for key in ("servers", "packages"):
        old_map, new_map = old.get(key), new.get(key)
        combined = dict(old_map) if isinstance(old_map, dict) else {}
        for name, version in new_map.items() if isinstance(new_map, dict) else ():
            if version is not None or name not in combined:
                combined[name] = version
        merged[key] = combined
    return merged


def write_json(path: str, document: dict[str, object]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write host.json and versions.json.")
    parser.add_argument("--host-output", required=True, help="host.json to write")
    parser.add_argument("--versions-output", required=True, help="versions.json to write")
    parser.add_argument(
        "--python",
        action="append",
        default=[],
        help="interpreter whose packages to report (repeatable; default: this one)",
    )
    parser.add_argument(
        "--server",
        action="append",
        default=[],
        help="server NAME or NAME=PACKAGE, e.g. uwsgi (repeatable, at least one)",
    )
    parser.add_argument("--package", action="append", default=[], help="other package to report")
    parser.add_argument("--wrk", default="wrk", help="wrk executable (wrk)")
    parser.add_argument(
        "--wrk-version", default="", help="record this wrk version (wrk ran on another host)"
    )
    parser.add_argument(
        "--extra", action="append", default=[], help="KEY=VALUE added to host.json's extra"
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="add to an existing versions.json (for servers installed one at a time)",
    )
    args = parser.parse_args(argv)
    if not args.server:
        parser.error("give at least one --server")
    added = dict(pair.split("=", 1) for pair in args.extra if "=" in pair)
    if len(added) != len(args.extra):
        parser.error("--extra takes KEY=VALUE")
    write_json(args.host_output, host_facts(added))
    found = versions(
        args.python or [sys.executable], args.server, args.package, args.wrk, args.wrk_version
    )
    if args.merge and os.path.exists(args.versions_output):
        found = merge_versions(read_json(args.versions_output), found)
    write_json(args.versions_output, found)
    return 0


if __name__ == "__main__":
    sys.exit(main())
