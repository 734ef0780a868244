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


@dataclass(frozen=True)
class Capacity:
    config: Config
    endpoint: str
    slo_ms: float
    capacity_rps: float | None  # None: not even the lowest rate was held
    lowest_rps: float
    highest_rps: float
    points: tuple[RatePoint, ...]
    client_ceiling_rps: float | None = None  # the most the open-loop client can send

    @property
    def client_bound(self) -> bool:
        """The first rate not held was at or above what the client itself can send: the
        client, not the server, may have failed it."""
        first_failed = next((point for point in self.points if not self.held(point)), None)
        return (
            first_failed is not None
            and self.client_ceiling_rps is not None
            and first_failed.offered_rps >= self.client_ceiling_rps
        )

    @property
    def all_held(self) -> bool:
        return self.capacity_rps is not None and self.capacity_rps >= self.highest_rps

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
        lowest_rps=rates.points[0].offered_rps,
        highest_rps=rates.points[-1].offered_rps,
        points=rates.points,
        client_ceiling_rps=rates.client_ceiling_rps,
    )


def capacities(rates_files: Iterable[RatesFile]) -> list[Capacity]:
    """One Capacity per rates file, ordered by endpoint then display order."""
    found = [capacity_of(rates) for rates in rates_files]
    return sorted(found, key=lambda item: (item.endpoint, display_key(item.config)))


def fmt_capacity(capacity: Capacity | None) -> str:
    """A cell of the capacity table: req/s, "+" when every rate run was held (the capacity
    may be higher), "< lowest rate" when none was, "n/a" when the pair was not run, and
    "(client-bound)" when the first rate not held was beyond the client's own ceiling."""
    if capacity is None:
        return NOT_RUN
    bound = " (client-bound)" if capacity.client_bound else ""
    if capacity.capacity_rps is None:
        return NONE_HELD + bound
    return f"{capacity.capacity_rps:,.0f}{'+' if capacity.all_held else ''}{bound}"
