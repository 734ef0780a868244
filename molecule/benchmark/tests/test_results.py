"""The short benchmark left sane results and a report on the controller."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from conftest import LAYOUT

RESULTS_DIR = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "results"
# The converge's servers (molecule.yml), measured in their tuned configs.
TUNED_SERVERS = ["uwsgi", "granian"]
STARVING_OVERRIDES = {"uwsgi_http_mode": "http11-socket", "workers": 1, "threads": 1}


def _result_sets() -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(RESULTS_DIR.glob("*/results.json"))]


def _summary(**config: Any) -> dict[str, Any]:
    """The health row of the one config whose fields match (server, proxy, overrides)."""
    found = [
        entry
        for results in _result_sets()
        for entry in results["summary"]
        if entry["endpoint"] == "health"
        and all(entry["config"][field] == value for field, value in config.items())
    ]
    assert len(found) == 1, (config, [entry["config"] for entry in found])
    return found[0]


@pytest.mark.parametrize("server", TUNED_SERVERS)
def test_tuned_configs_are_measured_sanely(server: str) -> None:
    entry = _summary(server=server, proxy=None, overrides={})
    assert entry["config"]["name"] == server
    assert entry["rps_mean"] > 50
    assert entry["error_rate_max"] < 0.01
    assert 0 < entry["p50_ms"] <= entry["p99_ms"]
    assert "starved" not in entry["flags"]


def test_runs_carry_memory_fairness_and_structured_labels() -> None:
    runs = [run for results in _result_sets() for run in results["runs"]]
    tuned = [
        run
        for run in runs
        if run["labels"]["server"] in TUNED_SERVERS
        and run["labels"]["proxy"] is None
        and not run["labels"]["overrides"]
    ]
    assert len(tuned) == len(TUNED_SERVERS)
    for run in tuned:
        assert run["labels"]["interface"] == "wsgi"
        assert run["labels"]["knobs"]["workers"] >= 1
        assert run["resources"]["pss_bytes"]["peak"] > 10 * 2**20
        assert run["resources"]["rss_bytes"]["peak"] >= run["resources"]["pss_bytes"]["peak"]
        assert run["resources"]["server_cpu_seconds"] > 0
        assert run["client"]["cpu_s"] > 0
        assert run["fairness"]["answered_connections"] == run["fairness"]["connections"] == 50


def test_starving_config_is_flagged() -> None:
    entry = _summary(server="uwsgi", overrides=STARVING_OVERRIDES)
    assert entry["config"]["knobs"]["uwsgi_http_mode"] == "http11-socket"
    assert "starved" in entry["flags"]


def test_report_is_rendered() -> None:
    results_dirs = sorted(path.parent for path in RESULTS_DIR.glob("*/results.json"))
    assert len(results_dirs) == 2  # converge and the remote load: one folder per sweep
    for results_dir in results_dirs:
        report = (results_dir / "report.md").read_text()
        assert "Requests per second" in report
        html = (results_dir / "report.html").read_text()
        assert "data:image/png;base64," in html
        assert sorted(path.name for path in (results_dir / "charts").glob("*.png"))
        assert json.loads((results_dir / "host.json").read_text())["vcpus"] >= 1
        assert json.loads((results_dir / "failures.json").read_text()) == []


def _result_set_with(**labels: Any) -> dict[str, Any]:
    for results in _result_sets():
        if any(
            all(run["labels"][field] == value for field, value in labels.items())
            for run in results["runs"]
        ):
            return results
    pytest.fail(f"no results with labels {labels} in {RESULTS_DIR}")


def test_load_host_run_through_caddy_is_measured_on_both_sides() -> None:
    entry = _summary(server="gunicorn", proxy="caddy")
    assert entry["config"]["name"] == "gunicorn-caddy"
    assert entry["rps_mean"] > 50
    assert entry["error_rate_max"] < 0.01
    assert "starved" not in entry["flags"]
    assert "via=caddy" in entry["config_descriptions"][0]
    (run,) = _result_set_with(server="gunicorn", proxy="caddy")["runs"]
    # wrk and the probe ran on the load host, against Caddy's plain-HTTP port on the target.
    assert run["labels"]["extra"]["load_host"] == "dsl-bench-load"
    assert run["load"]["url"].startswith("http://")
    assert "127.0.0.1" not in run["load"]["url"]
    assert f":{LAYOUT['layout_http_port']}/api/health" in run["load"]["url"]
    assert run["client"]["cpu_s"] > 0
    assert run["fairness"]["answered_connections"] == run["fairness"]["connections"] == 50
    # The target sampled the app server's and Caddy's units meanwhile.
    resources = run["resources"]
    assert "unit:caddy.service" in resources["targets"]
    assert any(target.startswith("unit:django-gunicorn") for target in resources["targets"])
    assert resources["pss_bytes"]["peak"] > 10 * 2**20
    assert resources["server_cpu_seconds"] > 0


def test_load_host_is_recorded_in_the_facts() -> None:
    results = _result_set_with(server="gunicorn", proxy="caddy")
    assert results["host"]["extra"]["load_host"].startswith("dsl-bench-load (")
    assert results["versions"]["wrk"] != "not found"
    assert results["versions"]["servers"]["gunicorn"]


def _converge_dir() -> Path:
    """The converge's results folder: the one that is not side_effect's remote load."""
    found = [
        path.parent for path in RESULTS_DIR.glob("*/results.json") if path.parent.name != "remote"
    ]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("server", TUNED_SERVERS)
def test_fixed_rates_measured_from_when_requests_were_due(server: str) -> None:
    """The last round offered fixed rates: the same common rate to both configs, each its own
    knee, ascending, judged against the SLO; at half its own maximum a server holds the rate."""
    (path,) = [
        path
        for path in (_converge_dir() / "rates").glob("*.json")
        if json.loads(path.read_text())["labels"]["server"] == server
        and not json.loads(path.read_text())["labels"]["overrides"]
    ]
    rates = json.loads(path.read_text())
    assert rates["kind"] == "rates"
    assert rates["slo_ms"] == 100
    assert rates["client"]["ceiling_rps"] > 1000
    offered = [point["offered_rps"] for point in rates["points"]]
    assert offered
    assert offered == sorted(offered)
    for point in rates["points"]:
        assert point["scheduled"] >= 200
        # Measured from the due time, a request never looks faster than from its send.
        assert point["latency_us"]["p99"] >= point["service_latency_us"]["p99"]
    lowest = rates["points"][0]
    assert lowest["completed"] == lowest["scheduled"]
    assert sum(lowest["errors"].values()) == 0


def test_app_ceiling_and_time_breakdown_are_written() -> None:
    results_dir = _converge_dir()
    ceiling = json.loads((results_dir / "ceiling.json").read_text())
    assert ceiling["format"] == "ceiling/1"
    assert ceiling["app_profile"] == "study"
    assert ceiling["endpoints"]["health"]["cpu_us_per_request"] > 0
    timing = json.loads((results_dir / "timing.json").read_text())
    phases = {phase["name"]: phase["seconds"] for phase in timing["phases"]}
    assert phases["switch servers"] > 0
    assert phases["fixed-rate runs: plan, open-loop client"] > 0
    # The phases account for the whole sweep up to the report (each rounded to 0.1 s).
    assert sum(phases.values()) == pytest.approx(timing["total_s"], abs=1.0)
