#!/usr/bin/env python3
"""Sweep each server's knobs on the lab and compare the tuned config with the best of its grid.

The configs are the catalog's (roles/app_server/vars/main.yml): each server's tuned config and
the knob overrides of its `sweep` grid. One run of playbooks/benchmark.yml measures them all,
rounds interleaved (round 1 runs every config of every server, then round 2 runs them all
again), so a burst of noise on a shared machine hits one round of many configs rather than every
round of one. The results land in one folder this script chooses; their rows are pooled with
the report's own rules (benchreport's aggregate: mean req/s, spread, `starved` and `errors`
flags), and the table gives, per endpoint and server, the tuned config's req/s against the best
config's. Only configs that serve every connection and keep errors under 1 % in every round
count as "best".

    scripts/sweep_knobs.py                      # every server, health endpoint, 10 s runs
    scripts/sweep_knobs.py --servers uwsgi,granian --duration 20s --output sweep.md
    scripts/sweep_knobs.py --servers uwsgi --endpoints health,health_sync,movies --rounds 3
    scripts/sweep_knobs.py --servers gunicorn --rounds 2 --caddy    # through Caddy
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from benchreport import Row, aggregate, load_results

REPO_ROOT = Path(__file__).resolve().parents[1]
CATALOG_FILE = REPO_ROOT / "roles" / "app_server" / "vars" / "main.yml"
# The venv's ansible-playbook beside this Python (the script runs as .venv/bin/python too).
_BESIDE_PYTHON = Path(sys.executable).parent / "ansible-playbook"
ANSIBLE_PLAYBOOK = str(_BESIDE_PYTHON) if _BESIDE_PYTHON.exists() else "ansible-playbook"


def sweep_configs(catalog: dict[str, Any], servers: list[str]) -> list[dict[str, Any]]:
    """Every server's tuned config, then the overrides of its catalog grid."""
    return [
        {"server": server, **overrides}
        for server in servers
        for overrides in [{}, *catalog[server]["sweep"]]
    ]


def run_sweep(configs: list[dict[str, Any]], args: argparse.Namespace) -> Path:
    """One benchmark run of every config and round; returns its results folder."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    results_path = (args.results_dir / stamp).resolve()
    extra: dict[str, object] = {
        "configs": configs,
        "benchmark_endpoints": args.endpoints,
        "benchmark_rounds": args.rounds,
        "benchmark_duration": args.duration,
        "benchmark_warmup": "3s",
        "benchmark_results_path": str(results_path),
        "caddy": args.caddy,
    }
    command = [ANSIBLE_PLAYBOOK, "playbooks/benchmark.yml", "-e", json.dumps(extra)]
    subprocess.run(command, cwd=REPO_ROOT, check=True)
    return results_path


def knobs_text(row: Row) -> str:
    overrides = row.config.overrides
    return " ".join(f"{name}={value}" for name, value in overrides.items()) or "tuned"


def render(endpoint: str, rows: list[Row], args: argparse.Namespace) -> str:
    lines = [
        f"Knob sweep: endpoint `{endpoint}`, wrk -t4 -c200 -d{args.duration}, {args.rounds}"
        " interleaved round(s) per config: mean req/s (lowest-highest round).",
        "",
        "| Server | Tuned req/s | Best config | Best req/s | Tuned / best"
        " | All configs: mean req/s (range) |",
        "| --- | ---: | --- | ---: | ---: | --- |",
    ]
    by_server: dict[str, list[Row]] = {}
    for row in rows:
        by_server.setdefault(row.config.server, []).append(row)
    for server, server_rows in by_server.items():
        tuned = next(row for row in server_rows if not row.config.overrides)
        fair = [row for row in server_rows if row.ranked] or server_rows
        best = max(fair, key=lambda row: row.rps_mean)

        def describe(row: Row) -> str:
            text = f"{knobs_text(row)} {row.rps_mean:,.0f} ({row.rps_min:,.0f}-{row.rps_max:,.0f})"
            return text if row.ranked else f"{text} [{', '.join(row.flags)}]"

        lines.append(
            f"| {server} | {tuned.rps_mean:,.0f} | {knobs_text(best)}:"
            f" {'; '.join(best.config_descriptions)} | {best.rps_mean:,.0f}"
            f" | {tuned.rps_mean / best.rps_mean:.0%} | {'; '.join(map(describe, server_rows))} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    catalog = yaml.safe_load(CATALOG_FILE.read_text())["app_server_catalog"]
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--servers", default=",".join(catalog), help="comma-separated servers")
    parser.add_argument(
        "--endpoints", default="health", help="comma-separated endpoints to load (health)"
    )
    parser.add_argument("--duration", default="10s", help="wrk duration per run (10s)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="interleaved rounds; every config runs once per round (1; one run varies ~12%%)",
    )
    parser.add_argument(
        "--results-dir", type=Path, default=REPO_ROOT / "results" / "sweep", help="where runs go"
    )
    parser.add_argument("--output", type=Path, help="also write the table here (Markdown)")
    parser.add_argument(
        "--caddy", action="store_true", help="load every config through Caddy (<server>-caddy)"
    )
    args = parser.parse_args()
    args.endpoints = args.endpoints.split(",")
    servers = args.servers.split(",")
    unknown = [server for server in servers if server not in catalog]
    if unknown:
        parser.error(f"unknown servers {unknown}; valid: {', '.join(catalog)}")
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    configs = sweep_configs(catalog, servers)
    print(
        f"sweep: {len(configs)} configs x {args.rounds} round(s) x {len(args.endpoints)} endpoints"
    )
    results = load_results(run_sweep(configs, args))
    rows = aggregate(results.runs, results.thresholds)
    table = "\n".join(
        render(endpoint, [row for row in rows if row.endpoint == endpoint], args)
        for endpoint in args.endpoints
        if any(row.endpoint == endpoint for row in rows)
    )
    print(table)
    if args.output:
        args.output.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
