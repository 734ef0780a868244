"""Trend: each config's median req/s on the headline endpoint over the sweeps before this one.

The earlier sweeps are the other results folders beside this one (``results/*/results.json``
whose label sorts before this set's: labels are UTC timestamps), at most the last
``TREND_RUNS`` - 1, read and paired by config name with compare's own code, so that a
regression shows as a drop from one run to the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchreport.aggregate import aggregate, index_by_name
from benchreport.jsonfields import InputError
from benchreport.schema import ResultSet
from benchreport.store import RESULTS_FILE, load_results

TREND_RUNS = 10  # this sweep and up to nine before it


@dataclass(frozen=True)
class TrendPoint:
    label: str
    medians: dict[str, float]  # config name -> median req/s on the endpoint


@dataclass(frozen=True)
class Trend:
    endpoint: str
    points: tuple[TrendPoint, ...]  # oldest first, this sweep last
    notes: tuple[str, ...] = ()  # sweeps whose configs could not be paired by name

    @property
    def config_names(self) -> list[str]:
        """Every config seen, in the order first seen (newest sweep first)."""
        names: dict[str, None] = {}
        for point in reversed(self.points):
            names.update(dict.fromkeys(point.medians))
        return list(names)


def earlier_sets(
    current: ResultSet, limit: int = TREND_RUNS - 1
) -> tuple[list[ResultSet], list[str]]:
    """The last ``limit`` result sets beside ``current`` with an earlier label, oldest first,
    and one note per folder that could not be read (it is left out, the report goes on)."""
    parent = current.directory.parent
    paths = sorted(
        path
        for path in parent.glob(f"*/{RESULTS_FILE}")
        if path.parent.name < current.label and path.parent != current.directory
    )
    found: list[ResultSet] = []
    notes: list[str] = []
    for path in paths[-limit:] if limit > 0 else []:
        try:
            found.append(load_results(path))
        except InputError as error:
            notes.append(f"left out of the trend: {error}")
    return found, notes


def medians(result_set: ResultSet, endpoint: str) -> dict[str, float]:
    rows = [
        row for row in aggregate(result_set.runs, result_set.thresholds) if row.endpoint == endpoint
    ]
    index = index_by_name(rows, result_set.source)
    return {name: row.rps_median for (name, _), row in index.items()}


def build_trend(current: ResultSet, earlier: Sequence[ResultSet], endpoint: str) -> Trend:
    points: list[TrendPoint] = []
    notes: list[str] = []
    for item in [*earlier[-(TREND_RUNS - 1) :], current]:
        try:
            points.append(TrendPoint(item.label, medians(item, endpoint)))
        except InputError as error:  # two configs of one name: compare cannot pair them
            notes.append(f"{item.label} left out of the trend: {error}")
    return Trend(endpoint, tuple(points), tuple(notes))
