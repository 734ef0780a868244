"""Spread over the closed-loop rounds, the spread flag, and a ranking with ties."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from benchreport.aggregate import Row, aggregate
from benchreport.config import Config
from benchreport.schema import Thresholds
from benchreport.spread import fmt_place, single_round, spread, spread_flagged, spread_ranking
from benchreport.store import load_runs


@pytest.fixture
def template(results_a: Path) -> Row:
    return aggregate(load_runs(results_a), Thresholds())[0]


def make(
    template: Row, name: str, low: float, median: float, high: float, *, flags: tuple[str, ...] = ()
) -> Row:
    """A row of three rounds with these req/s (min, median, max)."""
    return replace(
        template,
        config=Config(server=name, interface="wsgi"),
        rps_min=low,
        rps_median=median,
        rps_max=high,
        rounds=(1, 2, 3),
        flags=flags,
    )


def places(rows: list[Row]) -> list[tuple[str, str]]:
    return [(item.row.config.name, fmt_place(item)) for item in spread_ranking(rows)]


def test_spread_and_its_flag(template: Row) -> None:
    steady = make(template, "steady", 950, 1000, 1050)
    noisy = make(template, "noisy", 900, 1000, 1101)
    assert spread(steady) == pytest.approx(0.10)
    assert not spread_flagged(steady)  # 10 % is the limit, not over it
    assert spread_flagged(noisy)


def test_overlapping_ranges_share_a_place(template: Row) -> None:
    rows = [
        make(template, "c", 700, 750, 800),
        make(template, "a", 1000, 1100, 1200),
        make(template, "b", 1150, 1180, 1190),  # inside a's range: a tie
        make(template, "d", 100, 110, 120),
    ]
    assert places(rows) == [("b", "1 (tie)"), ("a", "1 (tie)"), ("c", "3"), ("d", "4")]


def test_a_chain_of_overlaps_is_one_tie(template: Row) -> None:
    """a overlaps b, b overlaps c; a and c do not, but b cannot be both apart and tied."""
    rows = [
        make(template, "a", 90, 95, 100),
        make(template, "b", 85, 90, 95),
        make(template, "c", 80, 84, 88),
    ]
    assert places(rows) == [("a", "1 (tie)"), ("b", "1 (tie)"), ("c", "1 (tie)")]


def test_ranges_that_do_not_overlap_rank_apart(template: Row) -> None:
    rows = [make(template, "a", 100, 105, 110), make(template, "b", 111, 115, 120)]
    assert places(rows) == [("b", "1"), ("a", "2")]


def test_flagged_configs_are_listed_but_not_ranked(template: Row) -> None:
    rows = [
        make(template, "fast but starved", 5000, 5000, 5000, flags=("starved",)),
        make(template, "fair", 100, 100, 100),
    ]
    assert places(rows) == [("fair", "1"), ("fast but starved", "not ranked")]


def test_one_round_has_no_spread_to_judge(template: Row) -> None:
    one = replace(make(template, "a", 100, 100, 100), rounds=(1,))
    assert single_round([one])
    assert not single_round([one, make(template, "b", 90, 100, 110)])
