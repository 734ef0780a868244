"""Capacity at SLO: which fixed-rate points are held, and the highest held rate."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from benchreport.capacity import Capacity, capacities, capacity_of, fmt_capacity
from benchreport.store import load_rates
from benchreport.sweep_files import RatePoint

CLEAN_ERRORS = {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0, "unsent": 0}


def a_point(**changes: object) -> RatePoint:
    point = RatePoint(
        offered_rps=1000.0,
        reason="common",
        duration_s=3.0,
        connections=64,
        scheduled=3000,
        sent=3000,
        completed=3000,
        achieved_rps=1000.0,
        errors=dict(CLEAN_ERRORS),
        p50_us=2000.0,
        p99_us=100_000.0,
        service_p99_us=50_000.0,
        max_send_lag_us=100.0,
    )
    return replace(point, **changes)  # type: ignore[arg-type]


def test_a_clean_point_within_the_slo_is_held() -> None:
    assert a_point().held(100)  # p99 exactly at the SLO counts as held


@pytest.mark.parametrize(
    "point",
    [
        a_point(p99_us=100_001.0),
        a_point(errors={**CLEAN_ERRORS, "unsent": 1}),
        a_point(errors={**CLEAN_ERRORS, "status": 1}),
        a_point(errors={**CLEAN_ERRORS, "timeout": 2}),
        a_point(completed=2999),
        a_point(p99_us=None, completed=0),
    ],
    ids=["p99 over", "unsent", "status", "timeout", "short", "nothing completed"],
)
def test_a_point_is_not_held(point: RatePoint) -> None:
    assert not point.held(100)


@pytest.fixture
def by_name(results_a: Path) -> dict[tuple[str, str], Capacity]:
    return {(item.config.name, item.endpoint): item for item in capacities(load_rates(results_a))}


def test_capacity_of_the_fixture_set(by_name: dict[tuple[str, str], Capacity]) -> None:
    gunicorn = by_name["gunicorn", "ping"]
    assert gunicorn.capacity_rps == 12000  # 16,000 has p99 182 ms
    assert not gunicorn.all_held
    assert fmt_capacity(gunicorn) == "12,000"
    assert by_name["granian", "ping"].capacity_rps == 3000  # 3,600 over the SLO, 4,000 unsent
    uwsgi = by_name["uwsgi", "ping"]
    assert uwsgi.capacity_rps is None
    assert fmt_capacity(uwsgi) == "< lowest rate"
    every_rate_held = by_name["gunicorn", "db"]
    assert every_rate_held.all_held
    assert fmt_capacity(every_rate_held) == "12,000+"
    assert fmt_capacity(None) == "n/a"
    assert ("uvicorn", "ping") not in by_name


def test_the_highest_held_rate_counts_even_above_a_failed_one(results_a: Path) -> None:
    rates = next(item for item in load_rates(results_a) if item.config.server == "gunicorn")
    failed_low = replace(rates.points[0], errors={**CLEAN_ERRORS, "read": 1})
    capacity = capacity_of(replace(rates, points=(failed_low, *rates.points[1:])))
    assert capacity.capacity_rps == rates.points[2].offered_rps
    assert capacity.to_json()["held_rps"] == [8000.0, 12000.0]


def test_a_failure_beyond_the_clients_own_ceiling_is_marked(
    by_name: dict[tuple[str, str], Capacity],
) -> None:
    gunicorn = by_name["gunicorn", "ping"]
    assert gunicorn.client_ceiling_rps == 41000  # the fixture's client: far above 16,000
    assert not gunicorn.client_bound
    limited = replace(gunicorn, client_ceiling_rps=15000.0)  # 16,000 failed beyond it
    assert limited.client_bound
    assert fmt_capacity(limited) == "12,000 (client-bound)"


def test_every_rate_held_and_a_higher_one_beyond_the_client(
    by_name: dict[tuple[str, str], Capacity],
) -> None:
    """run_rates.py leaves out the rates the client cannot offer: the server was not tested
    up to its limit, and the cell says so."""
    every_rate_held = by_name["gunicorn", "db"]
    assert not every_rate_held.client_bound
    limited = replace(every_rate_held, skipped_above_client=True)
    assert fmt_capacity(limited) == "12,000+ (client-bound)"


def test_a_rates_file_without_points(results_a: Path) -> None:
    """Every rate asked for was above the client's ceiling: nothing was run."""
    rates = next(item for item in load_rates(results_a) if item.config.server == "uwsgi")
    capacity = capacity_of(replace(rates, points=()))
    assert capacity.capacity_rps is None
    assert capacity.lowest_rps is None
    assert fmt_capacity(capacity) == "no rate run"
