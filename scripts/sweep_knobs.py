#!/usr/bin/env python3
"""Sweep each server's main knobs on the lab and compare the best config with the default.

For every server and every config of its grid, runs playbooks/benchmark.yml once (one server,
the chosen endpoints, --rounds rounds) with the knobs as extra vars and a label suffix naming
them, then reads the results and prints, per endpoint and server, the default's req/s against
the best config's. Only configs that serve every connection and keep errors under 1% count as
"best".

    scripts/sweep_knobs.py                      # all six servers, health endpoint, 10 s runs
    scripts/sweep_knobs.py --servers uwsgi,granian --duration 20s --output sweep.md
    scripts/sweep_knobs.py --servers uwsgi --endpoints health,health_sync,movies --rounds 3
    scripts/sweep_knobs.py --servers gunicorn --rounds 2 --caddy    # through Caddy
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
# The venv's ansible-playbook beside this Python (the script runs as .venv/bin/python too).
_BESIDE_PYTHON = Path(sys.executable).parent / "ansible-playbook"
ANSIBLE_PLAYBOOK = str(_BESIDE_PYTHON) if _BESIDE_PYTHON.exists() else "ansible-playbook"

# Knob grids for a 2-vCPU host. `None` marks the role's tuned default (no override).
GRIDS: dict[str, list[dict[str, int] | None]] = {
    "uwsgi": [
        None,
        {"w": 2, "t": 1},
        {"w": 2, "t": 2},
        {"w": 4, "t": 1},
        {"w": 8, "t": 1},
        {"w": 4, "t": 4},
    ],
    "gunicorn": [
        None,
        {"w": 2, "t": 4},
        {"w": 4, "t": 2},
        {"w": 4, "t": 4},
        {"w": 4, "t": 8},
        {"w": 2, "t": 16},
    ],
    "granian": [
        None,
        {"w": 2, "t": 1},
        {"w": 2, "t": 2},
        {"w": 1, "t": 4},
        {"w": 4, "t": 2},
    ],
    "uvicorn": [None, {"w": 2}, {"w": 6}],
    "hypercorn": [None, {"w": 2}, {"w": 6}],
    "daphne": [None, {"i": 2}, {"i": 6}],
}
KNOB_VARS = {"w": "app_server_workers", "t": "app_server_threads", "i": "app_server_instances"}


@dataclass(frozen=True)
class Measured:
    """One config's outcome."""

    label: str
    rps: float
    p99_ms: float | None
    flags: list[str]
    config: str


def label_for(server: str, knobs: dict[str, int] | None) -> str:
    if knobs is None:
        return f"{server}-default"
    return server + "-" + "".join(f"{name}{value}" for name, value in knobs.items())


def run_config(server: str, knobs: dict[str, int] | None, args: argparse.Namespace) -> Path:
    suffix = label_for(server, knobs).removeprefix(server + "-")
    extra: dict[str, object] = {
        "servers": [server],
        "benchmark_endpoints": args.endpoints,
        "benchmark_rounds": args.rounds,
        "benchmark_duration": args.duration,
        "benchmark_warmup": "3s",
        "benchmark_label_suffix": suffix,
        "benchmark_results_dir": str(args.results_dir),
        "caddy": args.caddy,
    }
    for name, value in (knobs or {}).items():
        extra[KNOB_VARS[name]] = value
    before = set(args.results_dir.glob("*/results.json"))
    command = [ANSIBLE_PLAYBOOK, "playbooks/benchmark.yml", "-e", json.dumps(extra)]
    print(f"sweep: {server} {suffix}: ansible-playbook {command[1]} ...", flush=True)
    subprocess.run(command, cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)
    (made,) = set(args.results_dir.glob("*/results.json")) - before
    return made


def read_measured(results_file: Path) -> dict[str, Measured]:
    """The config's outcome on each endpoint of one sweep run."""
    results = json.loads(results_file.read_text())
    return {
        entry["endpoint"]: Measured(
            label=entry["server"],
            rps=float(entry["rps_mean"]),
            p99_ms=entry["p99_ms"],
            flags=list(entry["flags"]),
            config=", ".join(entry["configs"]),
        )
        for entry in results["summary"]
    }


def is_fair(measured: Measured) -> bool:
    return not {"starved", "errors"} & set(measured.flags)


def render(endpoint: str, per_server: dict[str, list[Measured]], args: argparse.Namespace) -> str:
    lines = [
        f"Knob sweep: endpoint `{endpoint}`, wrk -t4 -c200 -d{args.duration}, "
        f"{args.rounds} round(s) per config (mean req/s).",
        "",
        "| Server | Default req/s | Best config | Best req/s | Default / best"
        " | All configs (req/s) |",
        "| --- | ---: | --- | ---: | ---: | --- |",
    ]
    for server, measured in per_server.items():
        default = next(item for item in measured if item.label.endswith("-default"))
        fair = [item for item in measured if is_fair(item)] or measured
        best = max(fair, key=lambda item: item.rps)
        everything = "; ".join(
            f"{item.label.removeprefix(server + '-')} {item.rps:,.0f}"
            + ("" if is_fair(item) else f" ({', '.join(item.flags)})")
            for item in measured
        )
        best_name = best.label.removeprefix(server + "-")
        lines.append(
            f"| {server} | {default.rps:,.0f} | {best_name}: {best.config}"
            f" | {best.rps:,.0f} | {default.rps / best.rps:.0%} | {everything} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--servers", default=",".join(GRIDS), help="comma-separated servers")
    parser.add_argument(
        "--endpoints", default="health", help="comma-separated endpoints to load (health)"
    )
    parser.add_argument("--duration", default="10s", help="wrk duration per config (10s)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="runs per config, averaged (1; one run varies ~12%%)"
    )
    parser.add_argument(
        "--results-dir", type=Path, default=REPO_ROOT / "results" / "sweep", help="where runs go"
    )
    parser.add_argument("--output", type=Path, help="also write the table here (Markdown)")
    parser.add_argument(
        "--caddy", action="store_true", help="load every config through Caddy (<server>-caddy-*)"
    )
    args = parser.parse_args()
    args.endpoints = args.endpoints.split(",")
    servers = args.servers.split(",")
    unknown = [server for server in servers if server not in GRIDS]
    if unknown:
        parser.error(f"unknown servers {unknown}; valid: {', '.join(GRIDS)}")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    per_endpoint: dict[str, dict[str, list[Measured]]] = {name: {} for name in args.endpoints}
    for server in servers:
        for knobs in GRIDS[server]:
            for endpoint, measured in read_measured(run_config(server, knobs, args)).items():
                per_endpoint.setdefault(endpoint, {}).setdefault(server, []).append(measured)
    table = "\n".join(
        render(endpoint, per_server, args)
        for endpoint, per_server in per_endpoint.items()
        if per_server
    )
    print(table)
    if args.output:
        args.output.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
