"""The charts as data (document.ChartSpec, LineChartSpec): req/s with the round-to-round
spread, p99, PSS with the summed RSS beside it, the median with min-max whiskers, p99 against
the offered rate per endpoint, and the trend over earlier sweeps. charts.py draws them."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from benchreport.aggregate import Row, display_key
from benchreport.capacity import Capacity
from benchreport.document import ChartSpec, Line, LineChartSpec, Series
from benchreport.tables import MIB
from benchreport.trend import Trend

CHARTS_DIR = "charts"

Metric = Callable[[Row], float | None]


def _in_mib(value: int | None) -> float | None:
    return value / MIB if value is not None else None


@dataclass(frozen=True)
class Measure:
    """What a bar shows of a row: its height, optional whiskers and an optional marker."""

    value: Metric
    low: Metric | None = None
    high: Metric | None = None
    marker: Metric | None = None
    marker_label: str = ""


RPS = Measure(
    value=lambda row: row.rps_mean, low=lambda row: row.rps_min, high=lambda row: row.rps_max
)
P99 = Measure(
    value=lambda row: row.p99_ms, low=lambda row: row.p99_ms, high=lambda row: row.p99_ms_max
)
PSS = Measure(
    value=lambda row: _in_mib(row.pss_peak_bytes),
    marker=lambda row: _in_mib(row.rss_peak_bytes),
    marker_label="RSS sum (the study's method)",
)


def series(label: str, rows: Sequence[Row | None], measure: Measure) -> Series:
    """One bar per row (a gap where the row is None); flagged rows are hatched."""

    def pick(metric: Metric | None) -> list[float | None] | None:
        if metric is None:
            return None
        return [metric(row) if row is not None else None for row in rows]

    return Series(
        label=label,
        values=pick(measure.value) or [],
        lows=pick(measure.low),
        highs=pick(measure.high),
        flagged=[row is not None and not row.ranked for row in rows],
        markers=pick(measure.marker),
        marker_label=measure.marker_label,
    )


def chart_spec(
    name: str,
    title: str,
    ylabel: str,
    *,
    categories: Sequence[str],
    groups: Sequence[tuple[str, Sequence[Row | None]]],
    measure: Measure,
) -> ChartSpec:
    """One series per (label, rows) group, each row under its category."""
    return ChartSpec(
        path=f"{CHARTS_DIR}/{name}",
        title=title,
        ylabel=ylabel,
        categories=tuple(categories),
        series=tuple(series(label, rows, measure) for label, rows in groups),
    )


# The report's charts: file name, title, y axis label, what the bars show.
REPORT_CHARTS = (
    ("rps.png", "Requests per second (mean of rounds; whiskers: min–max)", "req/s", RPS),
    ("p99.png", "p99 latency (mean of rounds; whisker: worst round)", "ms", P99),
    ("pss.png", "Server memory: peak PSS (x = summed RSS)", "MiB", PSS),
)


def report_charts(rows: Sequence[Row]) -> tuple[ChartSpec, ...]:
    """One bar group per config, one bar per endpoint (a gap where that pair was not run)."""
    configs = sorted({row.config for row in rows}, key=display_key)
    by_key = {(row.config, row.endpoint): row for row in rows}
    groups = [
        (endpoint, [by_key.get((config, endpoint)) for config in configs])
        for endpoint in sorted({row.endpoint for row in rows})
    ]
    names = [config.name for config in configs]
    return tuple(
        chart_spec(name, title, ylabel, categories=names, groups=groups, measure=measure)
        for name, title, ylabel, measure in REPORT_CHARTS
    )


SPREAD = Measure(
    value=lambda row: row.rps_median, low=lambda row: row.rps_min, high=lambda row: row.rps_max
)


def spread_chart(rows: Sequence[Row]) -> ChartSpec:
    """The closed-loop rounds' median per config and endpoint, whiskers min-max: bars whose
    whiskers overlap are not ranked apart."""
    configs = sorted({row.config for row in rows}, key=display_key)
    by_key = {(row.config, row.endpoint): row for row in rows}
    return chart_spec(
        "spread.png",
        "Closed-loop req/s: median of rounds (whiskers: min–max)",
        "req/s",
        categories=[config.name for config in configs],
        groups=[
            (endpoint, [by_key.get((config, endpoint)) for config in configs])
            for endpoint in sorted({row.endpoint for row in rows})
        ],
        measure=SPREAD,
    )


def file_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def rates_chart(endpoint: str, capacities: Sequence[Capacity]) -> LineChartSpec:
    """p99 from the due time against the offered rate, one line per config, log y; the SLO
    as a horizontal line; rates that were not held ringed."""
    lines = tuple(
        Line(
            label=capacity.config.name,
            xs=[point.offered_rps for point in capacity.points],
            ys=[point.p99_us / 1000 if point.p99_us else None for point in capacity.points],
            marked=[not capacity.held(point) for point in capacity.points],
        )
        for capacity in capacities
    )
    objectives = sorted({capacity.slo_ms for capacity in capacities})
    return LineChartSpec(
        path=f"{CHARTS_DIR}/rates-{file_safe(endpoint)}.png",
        title=f"p99 latency from due time vs offered rate, endpoint {endpoint}",
        xlabel="offered rate (req/s)",
        ylabel="p99 from due time (ms, log)",
        lines=lines,
        log_y=True,
        references=tuple((slo, f"SLO p99 {slo:g} ms") for slo in objectives),
        marked_label="not held (errors, unsent or p99 over the SLO)",
    )


def trend_chart(trend: Trend) -> LineChartSpec:
    """Each config's median req/s per sweep, oldest first."""
    return LineChartSpec(
        path=f"{CHARTS_DIR}/trend.png",
        title=f"Median req/s per sweep, endpoint {trend.endpoint}",
        xlabel="sweep",
        ylabel="req/s (median of rounds)",
        lines=tuple(
            Line(
                label=name,
                xs=list(range(len(trend.points))),
                ys=[point.medians.get(name) for point in trend.points],
            )
            for name in trend.config_names
        ),
        x_labels=tuple(point.label for point in trend.points),
    )
