"""Ceiling share: how close a server gets to what Django alone costs.

ceiling.json gives the app's in-process CPU µs per request on each endpoint (no server, no
HTTP). A server's own cost is its CPU µs per request in the closed-loop runs
(resources.server_cpu_seconds * 1e6 / wrk.requests), the median over the rounds. The share is
app / server as a percent: 100 % would be a server that adds nothing; the rest is the server's
and HTTP's cost.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from benchreport.aggregate import display_key
from benchreport.config import Config
from benchreport.schema import Run
from benchreport.sweep_files import Ceiling


@dataclass(frozen=True)
class CeilingShare:
    config: Config
    endpoint: str
    app_us_per_request: float | None  # None: the ceiling did not measure this endpoint
    server_us_per_request: float | None  # None: no server CPU time or no request

    @property
    def share_pct(self) -> float | None:
        if self.app_us_per_request is None or not self.server_us_per_request:
            return None
        return 100 * self.app_us_per_request / self.server_us_per_request


def server_us_per_request(runs: Sequence[Run]) -> float | None:
    """The median over rounds of the server's CPU µs per completed request."""
    values = [
        run.resources.server_cpu_s * 1e6 / run.wrk.requests
        for run in runs
        if run.resources is not None
        and run.resources.server_cpu_s is not None
        and run.wrk.requests > 0
    ]
    return statistics.median(values) if values else None


def ceiling_shares(runs: Iterable[Run], ceiling: Ceiling) -> list[CeilingShare]:
    """One CeilingShare per config and endpoint of the closed-loop runs."""
    groups: dict[tuple[Config, str], list[Run]] = {}
    for run in runs:
        groups.setdefault(run.key, []).append(run)
    shares = []
    for (config, endpoint), group in groups.items():
        app = ceiling.endpoints.get(endpoint)
        shares.append(
            CeilingShare(
                config=config,
                endpoint=endpoint,
                app_us_per_request=app.cpu_us_per_request if app else None,
                server_us_per_request=server_us_per_request(group),
            )
        )
    return sorted(shares, key=lambda item: (item.endpoint, display_key(item.config)))
