"""The short benchmark left sane results and a report on the controller."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

RESULTS_DIR = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "results"


def _result_sets() -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(RESULTS_DIR.glob("*/results.json"))]


def _summary(server: str) -> dict[str, Any]:
    for results in _result_sets():
        for entry in results["summary"]:
            if entry["server"] == server and entry["endpoint"] == "health":
                return entry
    pytest.fail(f"no summary for {server}/health in {RESULTS_DIR}")


@pytest.mark.parametrize("server", ["uwsgi", "granian"])
def test_default_configs_are_measured_sanely(server: str) -> None:
    entry = _summary(server)
    assert entry["rps_mean"] > 50
    assert entry["error_rate_max"] < 0.01
    assert 0 < entry["p50_ms"] <= entry["p99_ms"]
    assert "starved" not in entry["flags"]


def test_runs_carry_memory_and_fairness() -> None:
    runs = [run for results in _result_sets() for run in results["runs"]]
    defaults = [run for run in runs if run["labels"]["server"] in {"uwsgi", "granian"}]
    assert len(defaults) == 2
    for run in defaults:
        assert run["resources"]["pss_bytes"]["peak"] > 10 * 2**20
        assert run["resources"]["rss_bytes"]["peak"] >= run["resources"]["pss_bytes"]["peak"]
        assert run["resources"]["server_cpu_seconds"] > 0
        assert run["client"]["cpu_s"] > 0
        assert run["fairness"]["answered_connections"] == run["fairness"]["connections"] == 50


def test_starving_config_is_flagged() -> None:
    entry = _summary("uwsgi-http11")
    assert "starved" in entry["flags"]


def test_report_is_rendered() -> None:
    for results_dir in sorted(RESULTS_DIR.glob("*/")):
        report = (results_dir / "report.md").read_text()
        assert "Requests per second" in report
        html = (results_dir / "report.html").read_text()
        assert "data:image/png;base64," in html
        assert sorted(path.name for path in (results_dir / "charts").glob("*.png"))
        assert json.loads((results_dir / "host.json").read_text())["vcpus"] >= 1
        assert json.loads((results_dir / "failures.json").read_text()) == []


def _result_set_of(server: str) -> dict[str, Any]:
    for results in _result_sets():
        if any(run["labels"]["server"] == server for run in results["runs"]):
            return results
    pytest.fail(f"no results for {server} in {RESULTS_DIR}")


def test_load_host_run_through_caddy_is_measured_on_both_sides() -> None:
    entry = _summary("gunicorn-caddy")
    assert entry["rps_mean"] > 50
    assert entry["error_rate_max"] < 0.01
    assert "starved" not in entry["flags"]
    assert "via=caddy" in entry["configs"][0]
    (run,) = _result_set_of("gunicorn-caddy")["runs"]
    # wrk and the probe ran on the load host, against Caddy's plain-HTTP port on the target.
    assert run["labels"]["extra"]["load_host"] == "dsl-bench-load"
    assert run["load"]["url"].startswith("http://")
    assert "127.0.0.1" not in run["load"]["url"]
    assert ":8080/api/health" in run["load"]["url"]
    assert run["client"]["cpu_s"] > 0
    assert run["fairness"]["answered_connections"] == run["fairness"]["connections"] == 50
    # The target sampled the app server's and Caddy's units meanwhile.
    resources = run["resources"]
    assert "unit:caddy.service" in resources["targets"]
    assert any(target.startswith("unit:django-gunicorn") for target in resources["targets"])
    assert resources["pss_bytes"]["peak"] > 10 * 2**20
    assert resources["server_cpu_seconds"] > 0


def test_load_host_is_recorded_in_the_facts() -> None:
    results = _result_set_of("gunicorn-caddy")
    assert results["host"]["extra"]["load_host"].startswith("dsl-bench-load (")
    assert results["versions"]["wrk"] != "not found"
    assert results["versions"]["servers"]["gunicorn"]
