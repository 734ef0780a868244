"""Ceiling share: Django's own CPU cost per request over the server's, per config/endpoint."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from benchreport.ceiling_share import ceiling_shares
from benchreport.store import load_runs
from benchreport.sweep_files import Ceiling, CeilingEndpoint


def test_share_is_app_cost_over_the_servers_median_cost(results_a: Path) -> None:
    runs = load_runs(results_a)
    ceiling = Ceiling(
        app_profile="lean",
        python="3.11.2",
        cpus=2,
        endpoints={"ping": CeilingEndpoint("/ping/", 20000, 0.24, 12.0, None)},
    )
    shares = {(item.config.name, item.endpoint): item for item in ceiling_shares(runs, ceiling)}
    gunicorn_runs = [
        run for run in runs if run.config.name == "gunicorn" and run.endpoint == "ping"
    ]
    expected_server = statistics.median(
        run.resources.server_cpu_s * 1e6 / run.wrk.requests  # type: ignore[union-attr,operator]
        for run in gunicorn_runs
    )
    gunicorn = shares["gunicorn", "ping"]
    assert gunicorn.server_us_per_request == pytest.approx(expected_server)
    assert gunicorn.share_pct == pytest.approx(100 * 12.0 / expected_server)
    # The fixture's numbers: 0.62 s / 19,233 and 0.68 s / 21,876 requests -> 31.7 µs.
    assert gunicorn.share_pct == pytest.approx(37.9, abs=0.1)
    # An endpoint the ceiling did not measure has no share.
    assert shares["gunicorn", "db"].app_us_per_request is None
    assert shares["gunicorn", "db"].share_pct is None
