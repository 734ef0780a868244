"""Read the files of a results directory and write its combined results.json.

Layout (SCHEMA.md):  RESULTS_DIR/runs/*.json, RESULTS_DIR/host.json, RESULTS_DIR/versions.json
-> RESULTS_DIR/results.json
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from benchreport.aggregate import aggregate
from benchreport.capacity import capacities
from benchreport.config import Config
from benchreport.header import SCHEMA_VERSION
from benchreport.jsonfields import Ctx, InputError, JsonObject
from benchreport.schema import (
    ResultSet,
    Run,
    Thresholds,
    parse_host,
    parse_results,
    parse_run,
    parse_sweep,
    parse_versions,
    validate_thresholds,
)
from benchreport.sweep_files import (
    RatesFile,
    parse_ceiling,
    parse_rates,
    parse_timing,
    parse_topology,
)

RUNS_DIR = "runs"
# Sampler files of runs whose load came from another host (same name as the run file).
RESOURCES_DIR = "resources"
HOST_FILE = "host.json"
VERSIONS_FILE = "versions.json"
# What the playbook was asked to run (optional): the command and the project's commit.
SWEEP_FILE = "sweep.json"
# Benchmark 2.0, all optional: fixed-rate runs, the app's own CPU cost, the sweep's phases.
RATES_DIR = "rates"
CEILING_FILE = "ceiling.json"
TIMING_FILE = "timing.json"
# Who ran what (optional): the hosts and their parts, where the load came from.
TOPOLOGY_FILE = "topology.json"
RESULTS_FILE = "results.json"


def read_json(path: Path, shown_as: str | None = None) -> object:
    name = shown_as or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise InputError(f"{name}: file not found") from error
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as error:
        raise InputError(f"{name}: cannot read: {error}") from error
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{name}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from error


def require_dir(path: Path) -> None:
    if not path.is_dir():
        raise InputError(f"{path}: not a directory")


def load_runs(results_dir: Path) -> list[Run]:
    runs_dir = results_dir / RUNS_DIR
    require_dir(runs_dir)
    files = sorted(runs_dir.glob("*.json"))
    if not files:
        raise InputError(f"{runs_dir}: no run files (*.json)")
    runs: list[Run] = []
    # A run's identity: its config's identity (not its knobs), endpoint and round.
    seen: dict[tuple[Config, str, int], str] = {}
    for path in files:
        shown = f"{RUNS_DIR}/{path.name}"
        run = parse_run(with_target_resources(results_dir, path), shown)
        identity = (run.config, run.endpoint, run.round)
        if identity in seen:
            raise InputError(
                f"{path}: duplicate run config={run.config.name} ({run.config.interface}) "
                f"endpoint={run.endpoint} round={run.round}, also in {seen[identity]}"
            )
        seen[identity] = shown
        runs.append(run)
    return runs


def load_rates(results_dir: Path) -> list[RatesFile]:
    """Every rates/*.json (none when the folder has no rates/); one per config and endpoint."""
    rates_dir = results_dir / RATES_DIR
    if not rates_dir.exists():
        return []
    require_dir(rates_dir)
    found: list[RatesFile] = []
    seen: dict[tuple[Config, str], str] = {}
    for path in sorted(rates_dir.glob("*.json")):
        shown = f"{RATES_DIR}/{path.name}"
        rates = parse_rates(read_json(path, shown), shown)
        if rates.key in seen:
            raise InputError(
                f"{shown}: duplicate rates file config={rates.config.name} "
                f"({rates.config.interface}) endpoint={rates.endpoint}, also in {seen[rates.key]}"
            )
        seen[rates.key] = shown
        found.append(rates)
    return found


def read_optional(results_dir: Path, name: str) -> object | None:
    """A top-level file's JSON if the folder has it, shown by its name in errors."""
    path = results_dir / name
    return read_json(path, name) if path.exists() else None


def with_target_resources(results_dir: Path, run_path: Path) -> object:
    """The run document, with the target's sampler file put in as its `resources` when the
    run has none (wrk ran on a separate load host, so run_load.py sampled nothing)."""
    document = read_json(run_path)
    resources_path = results_dir / RESOURCES_DIR / run_path.name
    if isinstance(document, dict) and document.get("resources") is None and resources_path.exists():
        document["resources"] = read_json(resources_path)
    return document


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def combine(
    results_dir: Path, thresholds: Thresholds, created_at: str | None = None
) -> tuple[Path, ResultSet]:
    """Validate every input file and write RESULTS_DIR/results.json."""
    require_dir(results_dir)
    validate_thresholds(thresholds, Ctx("command line"))
    host_doc = read_json(results_dir / HOST_FILE)
    versions_doc = read_json(results_dir / VERSIONS_FILE)
    parse_host(host_doc, str(results_dir / HOST_FILE))
    parse_versions(versions_doc, str(results_dir / VERSIONS_FILE))
    sweep_path = results_dir / SWEEP_FILE
    sweep_doc = read_json(sweep_path) if sweep_path.exists() else None
    if sweep_doc is not None:
        if not isinstance(sweep_doc, dict):
            raise InputError(f"{sweep_path}: expected a JSON object")
        parse_sweep(sweep_doc, Ctx(str(sweep_path)))
    ceiling_doc = read_optional(results_dir, CEILING_FILE)
    if ceiling_doc is not None:
        parse_ceiling(ceiling_doc, CEILING_FILE)
    timing_doc = read_optional(results_dir, TIMING_FILE)
    if timing_doc is not None:
        parse_timing(timing_doc, TIMING_FILE)
    topology_doc = read_optional(results_dir, TOPOLOGY_FILE)
    if topology_doc is not None:
        parse_topology(topology_doc, TOPOLOGY_FILE)
    rates = load_rates(results_dir)
    runs = load_runs(results_dir)
    runs.sort(key=lambda run: (run.round, run.started_at, run.config.name, run.endpoint))
    document: JsonObject = {
        "schema_version": SCHEMA_VERSION,
        "kind": "results",
        "label": results_dir.resolve().name,
        "created_at": created_at or utc_now(),
        "host": host_doc,
        "versions": versions_doc,
        "thresholds": thresholds.to_json(),
        "runs": [{"file": run.source, **run.document} for run in runs],
        "summary": [row.to_json() for row in aggregate(runs, thresholds)],
        **({"sweep": sweep_doc} if sweep_doc is not None else {}),
        **({"rates": [{"file": item.source, **item.document} for item in rates]} if rates else {}),
        **({"capacity": [item.to_json() for item in capacities(rates)]} if rates else {}),
        **({"ceiling": ceiling_doc} if ceiling_doc is not None else {}),
        **({"timing": timing_doc} if timing_doc is not None else {}),
        **({"topology": topology_doc} if topology_doc is not None else {}),
    }
    target = results_dir / RESULTS_FILE
    temporary = target.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    temporary.replace(target)
    return target, parse_results(document, str(target))


def load_results(location: Path) -> ResultSet:
    """A results directory (its results.json) or a results.json path."""
    if not location.exists():
        raise InputError(f"{location}: no such results directory or results.json")
    path = location / RESULTS_FILE if location.is_dir() else location
    if location.is_dir() and not path.exists():
        raise InputError(
            f"{path}: file not found (run `python -m benchreport combine {location}` first)"
        )
    return parse_results(read_json(path), str(path))
