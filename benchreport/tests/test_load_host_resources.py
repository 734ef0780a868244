"""Runs loaded from a separate host: combine takes their resources from the target's file."""

from __future__ import annotations

import json
from pathlib import Path

from benchreport.__main__ import main

RUN_NAME = "r1-granian-ping.json"


def split_resources(results_dir: Path) -> dict[str, object]:
    """Move one run's resources to resources/<run name>, as a remote-load sweep writes them."""
    run_path = results_dir / "runs" / RUN_NAME
    run = json.loads(run_path.read_text())
    resources = run["resources"]
    assert resources is not None
    run["resources"] = None
    run_path.write_text(json.dumps(run))
    (results_dir / "resources").mkdir()
    (results_dir / "resources" / RUN_NAME).write_text(json.dumps(resources))
    return resources


def combined_run(results_dir: Path, name: str) -> dict[str, object]:
    assert main(["combine", str(results_dir)]) == 0
    results = json.loads((results_dir / "results.json").read_text())
    (run,) = [run for run in results["runs"] if run["file"] == f"runs/{name}"]
    return run


def test_target_resources_fill_a_run_without_them(results_a: Path) -> None:
    resources = split_resources(results_a)
    assert combined_run(results_a, RUN_NAME)["resources"] == resources


def test_a_run_keeps_its_own_resources(results_a: Path) -> None:
    own = json.loads((results_a / "runs" / RUN_NAME).read_text())["resources"]
    (results_a / "resources").mkdir()
    (results_a / "resources" / RUN_NAME).write_text(json.dumps({"samples": 1}))
    assert combined_run(results_a, RUN_NAME)["resources"] == own


def test_a_run_without_any_resources_stays_unmeasured(results_a: Path) -> None:
    split_resources(results_a)
    (results_a / "resources" / RUN_NAME).unlink()
    assert combined_run(results_a, RUN_NAME)["resources"] is None
