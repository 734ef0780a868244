#!/usr/bin/env python3
"""Sweep each server's main knobs on the lab and compare the best config with the default.

Runs playbooks/benchmark.yml once per config and round (one server, the chosen endpoints) with
the knobs as extra vars and a label suffix naming them. Rounds are interleaved like the
benchmark's: round 1 runs every config of every server, then round 2 runs them all again, so a
burst of noise on a shared machine hits one round of many configs rather than every round of
one. The runs of each config are then pooled with the report's own rules (benchreport's
aggregate: mean req/s, spread, `starved` and `errors` flags), and the table gives, per endpoint
and server, the default's req/s against the best config's. Only configs that serve every
connection and keep errors under 1% in every round count as "best".

    scripts/sweep_knobs.py                      # all six servers, health endpoint, 10 s runs
    scripts/sweep_knobs.py --servers uwsgi,granian --duration 20s --output sweep.md
    scripts/sweep_knobs.py --servers uwsgi --endpoints health,health_sync,movies --rounds 3
    scripts/sweep_knobs.py --servers gunicorn --rounds 2 --caddy    # through Caddy
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # benchreport is a folder of this repository, not installed
    sys.path.insert(0, str(REPO_ROOT))

from benchreport.aggregate import Row, aggregate_group  # noqa: E402
from benchreport.schema import Run  # noqa: E402
from benchreport.store import load_results  # noqa: E402

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
    "daphne": [None, {"i": 2}, {"i": 6}, {"i": 8}],
}
KNOB_VARS = {"w": "app_server_workers", "t": "app_server_threads", "i": "app_server_instances"}


def label_for(server: str, knobs: dict[str, int] | None) -> str:
    if knobs is None:
        return f"{server}-default"
    return server + "-" + "".join(f"{name}{value}" for name, value in knobs.items())


def run_config(server: str, knobs: dict[str, int] | None, args: argparse.Namespace) -> Path:
    """One benchmark run of one config (one round), returning its results.json."""
    suffix = label_for(server, knobs).removeprefix(server + "-")
    extra: dict[str, object] = {
        "servers": [server],
        "benchmark_endpoints": args.endpoints,
        "benchmark_rounds": 1,
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
    subprocess.run(command, cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)
    (made,) = set(args.results_dir.glob("*/results.json")) - before
    return made


def pool(results_files: list[Path]) -> dict[str, dict[str, list[Row]]]:
    """Every config's runs pooled over the sweep's rounds: endpoint -> server -> one row per
    config. Each results.json holds one round of one config; its runs are renumbered by the
    order they ran in, so the report's aggregation sees them as rounds 1, 2, ..."""
    groups: dict[tuple[str, str], list[Run]] = {}
    thresholds = None
    for results_file in results_files:
        results = load_results(results_file)
        thresholds = results.thresholds
        for run in results.runs:
            groups.setdefault(run.key, []).append(run)
    per_endpoint: dict[str, dict[str, list[Row]]] = {}
    for (label, endpoint), runs in groups.items():
        ordered = sorted(runs, key=lambda run: run.started_at)
        renumbered = [
            dataclasses.replace(run, round=index + 1) for index, run in enumerate(ordered)
        ]
        assert thresholds is not None
        row = aggregate_group(renumbered, thresholds)
        server = label.split("-", 1)[0]
        per_endpoint.setdefault(endpoint, {}).setdefault(server, []).append(row)
    return per_endpoint


def render(endpoint: str, per_server: dict[str, list[Row]], args: argparse.Namespace) -> str:
    lines = [
        f"Knob sweep: endpoint `{endpoint}`, wrk -t4 -c200 -d{args.duration}, {args.rounds}"
        " interleaved round(s) per config: mean req/s (lowest-highest round).",
        "",
        "| Server | Default req/s | Best config | Best req/s | Default / best"
        " | All configs: mean req/s (range) |",
        "| --- | ---: | --- | ---: | ---: | --- |",
    ]
    for server, rows in per_server.items():
        default = next(row for row in rows if row.server.endswith("-default"))
        fair = [row for row in rows if row.ranked] or rows
        best = max(fair, key=lambda row: row.rps_mean)

        def describe(row: Row, server: str = server) -> str:
            name = row.server.removeprefix(server + "-")
            text = f"{name} {row.rps_mean:,.0f} ({row.rps_min:,.0f}-{row.rps_max:,.0f})"
            return text if row.ranked else f"{text} [{', '.join(row.flags)}]"

        lines.append(
            f"| {server} | {default.rps_mean:,.0f} | {best.server.removeprefix(server + '-')}:"
            f" {', '.join(best.configs)} | {best.rps_mean:,.0f}"
            f" | {default.rps_mean / best.rps_mean:.0%} | {'; '.join(map(describe, rows))} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--servers", default=",".join(GRIDS), help="comma-separated servers")
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
        "--caddy", action="store_true", help="load every config through Caddy (<server>-caddy-*)"
    )
    args = parser.parse_args()
    args.endpoints = args.endpoints.split(",")
    servers = args.servers.split(",")
    unknown = [server for server in servers if server not in GRIDS]
    if unknown:
        parser.error(f"unknown servers {unknown}; valid: {', '.join(GRIDS)}")
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    steps = [
        (round_number, server, knobs)
        for round_number in range(1, args.rounds + 1)
        for server in servers
        for knobs in GRIDS[server]
    ]
    made: list[Path] = []
    for index, (round_number, server, knobs) in enumerate(steps, start=1):
        print(
            f"sweep: step {index}/{len(steps)}, round {round_number}/{args.rounds}:"
            f" {label_for(server, knobs)}",
            flush=True,
        )
        made.append(run_config(server, knobs, args))
    per_endpoint = pool(made)
    table = "\n".join(
        render(endpoint, per_endpoint[endpoint], args)
        for endpoint in args.endpoints
        if endpoint in per_endpoint
    )
    print(table)
    if args.output:
        args.output.write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
