"""Spread of the closed-loop rounds and a ranking that does not overclaim.

Per config and endpoint: median req/s over the rounds, min-max, and spread = (max - min) /
median. A spread above 10 % is flagged: the rounds disagree more than a ranking can bear.
Configs are ranked by median, but two are ranked apart only when their min-max ranges do not
overlap; configs whose ranges overlap (directly or through a chain of overlapping ranges)
share a place, marked "tie". Flagged configs (``starved``, ``errors``) are listed, not ranked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from benchreport.aggregate import Row

SPREAD_LIMIT = 0.10  # (max - min) / median above this is flagged


@dataclass(frozen=True)
class Placed:
    """A row's place in its endpoint's ranking: None when not ranked; ``tie`` when it shares
    the place with another config."""

    row: Row
    place: int | None
    tie: bool


def spread(row: Row) -> float | None:
    """(max - min) / median of the rounds' req/s; None when the median is 0."""
    return (row.rps_max - row.rps_min) / row.rps_median if row.rps_median > 0 else None


def spread_flagged(row: Row) -> bool:
    value = spread(row)
    return value is not None and value > SPREAD_LIMIT


def single_round(rows: Iterable[Row]) -> bool:
    """No row has more than one round: there is no spread to judge a ranking by."""
    return all(len(row.rounds) < 2 for row in rows)


def overlap_groups(rows: Sequence[Row]) -> list[list[Row]]:
    """Rows grouped by overlapping min-max ranges (connected ranges form one group), the
    group of the highest range first, each group by median, highest first."""
    by_top = sorted(rows, key=lambda row: (-row.rps_max, -row.rps_median))
    groups: list[list[Row]] = []
    group_floor = float("inf")
    for row in by_top:
        if groups and row.rps_max >= group_floor:
            groups[-1].append(row)
            group_floor = min(group_floor, row.rps_min)
        else:
            groups.append([row])
            group_floor = row.rps_min
    return [sorted(group, key=lambda row: -row.rps_median) for group in groups]


def spread_ranking(rows: Iterable[Row]) -> list[Placed]:
    """Ranked rows with their shared places ("1, 1, 3"), then the unranked rows by median."""
    rows = list(rows)
    placed: list[Placed] = []
    for group in overlap_groups([row for row in rows if row.ranked]):
        place = len(placed) + 1
        placed += [Placed(row, place, len(group) > 1) for row in group]
    others = sorted((row for row in rows if not row.ranked), key=lambda row: -row.rps_median)
    return placed + [Placed(row, None, False) for row in others]


def fmt_place(item: Placed) -> str:
    if item.place is None:
        return "not ranked"
    return f"{item.place} (tie)" if item.tie else str(item.place)
