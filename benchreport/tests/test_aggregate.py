"""Aggregation across rounds, flags and rankings, on the captured fixtures (real wrk runs)."""

from __future__ import annotations

import copy
import json
import statistics
from pathlib import Path

import pytest

from benchreport.aggregate import Row, aggregate, memory_ranking, rps_ranking, winner
from benchreport.schema import Latency, Run, Thresholds, WrkErrors, WrkResult, parse_run
from benchreport.store import load_runs


def rows_by_key(rows: list[Row]) -> dict[tuple[str, str], Row]:
    return {(row.config.name, row.endpoint): row for row in rows}


def test_runs_are_parsed(results_a: Path) -> None:
    runs = load_runs(results_a)
    assert len(runs) == 12
    assert {run.round for run in runs} == {1, 2}
    assert {run.config.server for run in runs} == {"uwsgi", "gunicorn", "granian", "uvicorn"}
    for run in runs:
        assert run.wrk.requests > 0
        assert run.wrk.rps == pytest.approx(run.wrk.requests / (run.wrk.duration_us / 1e6))
        assert run.resources is not None
        assert run.fairness is not None


def test_rounds_are_combined(results_a: Path) -> None:
    runs = load_runs(results_a)
    rows = rows_by_key(aggregate(runs, Thresholds()))
    assert len(rows) == 6
    gunicorn_runs = [
        run for run in runs if (run.config.server, run.endpoint) == ("gunicorn", "ping")
    ]
    row = rows["gunicorn", "ping"]
    rps = [run.wrk.rps for run in gunicorn_runs]
    assert row.rounds == (1, 2)
    assert row.rps_mean == pytest.approx(statistics.fmean(rps))
    assert (row.rps_min, row.rps_max) == (min(rps), max(rps))
    assert row.rps_spread_pct == pytest.approx(100 * (max(rps) - min(rps)) / statistics.fmean(rps))
    assert row.requests == sum(run.wrk.requests for run in gunicorn_runs)
    p99s = [run.wrk.latency.p99_us or 0.0 for run in gunicorn_runs]
    assert row.p99_ms == pytest.approx(statistics.fmean(p99s) / 1000)
    pss = [run.resources.pss_peak_bytes or 0 for run in gunicorn_runs if run.resources]
    assert row.pss_peak_bytes == max(pss)


def test_starving_and_erroring_configs_are_flagged_not_ranked(results_a: Path) -> None:
    rows = aggregate(load_runs(results_a), Thresholds())
    by_key = rows_by_key(rows)
    starving, erroring = by_key["uwsgi", "ping"], by_key["uvicorn", "ping"]
    assert starving.flags == ("starved",)
    assert starving.answered_fraction_min is not None
    assert starving.answered_fraction_min < 1.0
    assert "starved: only" in starving.flag_reasons[0]
    assert erroring.flags == ("errors",)
    assert erroring.error_rate_max == pytest.approx(0.1, rel=0.05)  # every 10th answer a 503
    assert not starving.ranked
    assert not erroring.ranked

    ping = [row for row in rows if row.endpoint == "ping"]
    ranking = rps_ranking(ping)
    assert [rank for rank, _ in ranking] == [1, 2, None, None]
    assert {row.config.name for rank, row in ranking if rank is None} == {"uwsgi", "uvicorn"}
    best = winner(ping)
    assert best is not None
    assert best.config.name == "gunicorn"
    memory = memory_ranking(ping)
    assert all(row.ranked for rank, row in memory if rank is not None)


def test_thresholds_are_configurable(results_a: Path) -> None:
    runs = load_runs(results_a)
    lenient = Thresholds(min_answered_fraction=0.0, max_error_rate=0.5)
    rows = rows_by_key(aggregate(runs, lenient))
    assert rows["uwsgi", "ping"].ranked
    assert rows["uvicorn", "ping"].ranked
    # With nothing flagged, the starving server's inflated req/s wins: why the flag exists.
    ping = [row for row in rows.values() if row.endpoint == "ping"]
    assert winner(ping) is max(ping, key=lambda row: row.rps_mean)


def test_missing_fairness_is_unprobed_but_ranked(results_a: Path) -> None:
    path = results_a / "runs" / "r1-gunicorn-db.json"
    document = json.loads(path.read_text())
    document["fairness"] = None
    run = parse_run(document, path.name)
    (row,) = aggregate([run], Thresholds())
    assert row.flags == ("unprobed",)
    assert row.answered_fraction_min is None
    assert row.ranked


def make_run(source: Run, requests: int, errors: WrkErrors) -> Run:
    wrk = WrkResult(
        requests=requests,
        duration_us=1_000_000,
        bytes=0,
        rps=float(requests),
        latency=Latency(*([None] * 9)),
        errors=errors,
    )
    return Run(**{**source.__dict__, "wrk": wrk, "document": copy.deepcopy(source.document)})


def test_error_rate_definition(results_a: Path) -> None:
    source = load_runs(results_a)[0]
    # 990 completed (10 of them 5xx) + 10 reads that never completed: 20 / 1000 = 2 %.
    run = make_run(source, 990, WrkErrors(connect=0, read=10, write=0, status=10, timeout=0))
    assert run.wrk.error_rate == pytest.approx(0.02)
    assert "errors" in aggregate([run], Thresholds())[0].flags
    # Exactly at the limit is not above it.
    run = make_run(source, 1000, WrkErrors(connect=0, read=0, write=0, status=10, timeout=0))
    assert "errors" not in aggregate([run], Thresholds())[0].flags
    # Nothing completed at all is 100 % errors.
    run = make_run(source, 0, WrkErrors(connect=200, read=0, write=0, status=0, timeout=0))
    assert run.wrk.error_rate == 1.0


def test_rows_without_pss_are_not_ranked_on_memory(results_a: Path) -> None:
    runs = [run for run in load_runs(results_a) if run.endpoint == "db"]
    stripped = [
        Run(**{**run.__dict__, "resources": None}) if run.config.server == "granian" else run
        for run in runs
    ]
    ranking = memory_ranking(aggregate(stripped, Thresholds()))
    assert [(rank, row.config.name) for rank, row in ranking] == [
        (1, "gunicorn"),
        (None, "granian"),
    ]
