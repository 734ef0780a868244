"""plan_rates.py: the rates a config is offered, from closed-loop run files on disk."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.servers import load_target_module, run_target_script

plan_rates = load_target_module("plan_rates")


def write_run(runs: Path, server: str, round_number: int, rps: float) -> None:
    labels = {"server": server, "interface": "wsgi", "proxy": None, "overrides": {}}
    document = {"kind": "run", "labels": {**labels, "endpoint": "health", "round": round_number}}
    document["wrk"] = {"rps": rps}
    (runs / f"r{round_number}-{server}.json").write_text(json.dumps(document))


def test_same_common_rates_for_all_and_each_its_own_knee(tmp_path: Path) -> None:
    # The best config's median over rounds 1-2 is 10,000; round 3 (being measured) is not used.
    for round_number, (fast, slow) in enumerate([(9000, 1000), (11000, 1200), (99000, 1100)], 1):
        write_run(tmp_path, "fast", round_number, fast)
        write_run(tmp_path, "slow", round_number, slow)
    labels = json.dumps({"server": "slow", "interface": "wsgi", "proxy": None, "overrides": {}})
    result = run_target_script(
        "plan_rates.py",
        *("--runs", str(tmp_path), "--endpoint", "health", "--labels", labels),
        *("--before-round", "3", "--common", "0.1,0.5", "--knee", "0.5,0.8", "--rates", "1000"),
    )
    assert result.returncode == 0, result.stderr
    # Common 0.1 x 10,000 = 1,000 is the given 1,000 (kept once, as given); 5,000 is above
    # 1.1 x its own median (1,100 over all three rounds) and left out; knee 550 and 880.
    assert json.loads(result.stdout) == ["550:knee", "880:knee", "1000:given"]


def test_no_run_of_the_config_is_an_error(tmp_path: Path) -> None:
    write_run(tmp_path, "fast", 1, 9000)
    labels = json.dumps({"server": "slow", "interface": "wsgi", "proxy": None, "overrides": {}})
    result = run_target_script(
        "plan_rates.py", "--runs", str(tmp_path), "--endpoint", "health", "--labels", labels
    )
    assert result.returncode == 2
    assert "no closed-loop run" in result.stderr


def test_bad_lists_name_the_value() -> None:
    for option, value, message in [
        ("--common", "0.5,3", "'3' is not a fraction in (0, 2]"),
        ("--rates", "500,0", "'0' is not a rate above 0 req/s"),
        ("--knee", "x", "'x' is not a fraction in (0, 2]"),
    ]:
        result = run_target_script(
            "plan_rates.py", "--runs", ".", "--endpoint", "e", "--labels", "{}", option, value
        )
        assert result.returncode == 2
        assert message in result.stderr


def test_plan_merges_near_rates() -> None:
    planned = plan_rates.plan({"a": 1000.0}, 1000.0, [0.5], [0.52], [])
    assert planned == [(500.0, "common")]


def test_a_config_on_each_database_has_its_own_identity() -> None:
    """A sweep that compares databases: the same server on SQLite and on PostgreSQL are two
    configs, and runs without the label (any other sweep) keep their identity."""
    labels = {"server": "gunicorn", "interface": "wsgi", "proxy": "caddy", "overrides": {}}
    on_sqlite = plan_rates.identity({**labels, "database": "sqlite"})
    on_postgres = plan_rates.identity({**labels, "database": "postgres"})
    assert on_sqlite != on_postgres
    assert plan_rates.identity(labels) == plan_rates.identity({**labels, "database": None})
