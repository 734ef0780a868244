"""The charts as data (document.ChartSpec): req/s with the round-to-round spread, p99, and
PSS with the summed RSS beside it. charts.py draws them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from benchreport.aggregate import Row, display_key
from benchreport.document import ChartSpec, Series
from benchreport.tables import MIB

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
