"""Capacity at SLO: per config and endpoint, the highest offered rate the config held.

A fixed-rate point is held when every due request was answered without an error (unsent
included) and p99 from the due time stayed within the SLO (``RatePoint.held``). The capacity
is the highest held ``offered_rps``; none held means below the lowest rate run. When even the
highest rate run was held, the real capacity may lie above it: ``all_held`` says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from benchreport.aggregate import display_key
from benchreport.config import Config
from benchreport.sweep_files import RatePoint, RatesFile

NOT_RUN = "n/a"
NONE_HELD = "< lowest rate"
NONE_RUN = "no rate run"


@dataclass(frozen=True)
class Capacity:
    config: Config
    endpoint: str
    slo_ms: float
    capacity_rps: float | None  # None: not even the lowest rate was held (or none run)
    lowest_rps: float | None  # None: no point was run
    highest_rps: float | None
    points: tuple[RatePoint, ...]
    client_ceiling_rps: float | None = None  # the most the open-loop client can send
    skipped_above_client: bool = False  # a rate was left out: the client could not offer it

    @property
    def all_held(self) -> bool:
        return (
            self.capacity_rps is not None
            and self.highest_rps is not None
            and self.capacity_rps >= self.highest_rps
        )

    @property
    def client_bound(self) -> bool:
        """The client, not the server, set the limit: every rate run was held and a higher
        one was left out as beyond the client's ceiling, or the first rate not held was at
        or above that ceiling."""
        if self.all_held or not self.points:
            return self.skipped_above_client
        first_failed = next(point for point in self.points if not self.held(point))
        ceiling = self.client_ceiling_rps
        return ceiling is not None and first_failed.offered_rps >= ceiling

    def held(self, point: RatePoint) -> bool:
        return point.held(self.slo_ms)

    def to_json(self) -> dict[str, object]:
        return {
            "config": {"name": self.config.name, **self.config.to_json()},
            "endpoint": self.endpoint,
            "slo_ms": self.slo_ms,
            "capacity_rps": self.capacity_rps,
            "lowest_rps": self.lowest_rps,
            "highest_rps": self.highest_rps,
            "all_held": self.all_held,
            "client_bound": self.client_bound,
            "held_rps": [point.offered_rps for point in self.points if self.held(point)],
        }


def capacity_of(rates: RatesFile) -> Capacity:
    held = [point.offered_rps for point in rates.points if point.held(rates.slo_ms)]
    return Capacity(
        config=rates.config,
        endpoint=rates.endpoint,
        slo_ms=rates.slo_ms,
        capacity_rps=max(held) if held else None,
        lowest_rps=rates.points[0].offered_rps if rates.points else None,
        highest_rps=rates.points[-1].offered_rps if rates.points else None,
        points=rates.points,
        client_ceiling_rps=rates.client_ceiling_rps,
        skipped_above_client=rates.skipped_above_client,
    )


def capacities(rates_files: Iterable[RatesFile]) -> list[Capacity]:
    """One Capacity per rates file, ordered by endpoint then display order."""
    found = [capacity_of(rates) for rates in rates_files]
    return sorted(found, key=lambda item: (item.endpoint, display_key(item.config)))


def fmt_capacity(capacity: Capacity | None) -> str:
    """A cell of the capacity table: req/s, "+" when every rate run was held (the capacity
    may be higher), "< lowest rate" when none was, "no rate run" when the file has no point,
    "n/a" when the pair has no rates file, and "(client-bound)" when the client's own ceiling
    set the limit (Capacity.client_bound)."""
    if capacity is None:
        return NOT_RUN
    bound = " (client-bound)" if capacity.client_bound else ""
    if not capacity.points:
        return NONE_RUN + bound
    if capacity.capacity_rps is None:
        return NONE_HELD + bound
    return f"{capacity.capacity_rps:,.0f}{'+' if capacity.all_held else ''}{bound}"
