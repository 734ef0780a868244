"""The report's CSV files as data: report.csv (one row per config x endpoint) and runs.csv
(one row per run). Units are in the column names; None means "not measured"."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TypeVar

from benchreport.aggregate import Row
from benchreport.capacity import Capacity
from benchreport.config import Config
from benchreport.document import Cell, Dataset
from benchreport.schema import ERROR_KINDS, Run
from benchreport.study import study_figure
from benchreport.sweep_files import RATE_ERROR_KINDS, RatePoint

T = TypeVar("T")


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


# A config in columns of its own, so that a reader filters on them rather than parsing a name;
# overrides and knobs as JSON objects.
CONFIG_COLUMNS: tuple[tuple[str, Callable[[Config], Cell]], ...] = (
    ("config", lambda config: config.name),
    ("server", lambda config: config.server),
    ("interface", lambda config: config.interface),
    ("proxy", lambda config: config.proxy),
    ("overrides", lambda config: _json(dict(config.overrides))),
    ("knobs", lambda config: _json(dict(config.knobs))),
)

REPORT_COLUMNS: tuple[tuple[str, Callable[[Row], Cell]], ...] = (
    ("endpoint", lambda row: row.endpoint),
    *((name, lambda row, get=get: get(row.config)) for name, get in CONFIG_COLUMNS),
    ("rounds", lambda row: len(row.rounds)),
    ("ranked", lambda row: "yes" if row.ranked else "no"),
    ("flags", lambda row: " ".join(row.flags)),
    ("rps_mean", lambda row: row.rps_mean),
    ("rps_median", lambda row: row.rps_median),
    ("rps_min", lambda row: row.rps_min),
    ("rps_max", lambda row: row.rps_max),
    ("rps_spread_pct", lambda row: row.rps_spread_pct),
    ("p50_ms", lambda row: row.p50_ms),
    ("p90_ms", lambda row: row.p90_ms),
    ("p99_ms", lambda row: row.p99_ms),
    ("p99_ms_worst", lambda row: row.p99_ms_max),
    ("p99_9_ms", lambda row: row.p99_9_ms),
    ("max_ms", lambda row: row.max_ms),
    ("requests", lambda row: row.requests),
    *((f"errors_{kind}", lambda row, kind=kind: row.errors[kind]) for kind in ERROR_KINDS),
    ("error_rate", lambda row: row.error_rate),
    ("error_rate_worst", lambda row: row.error_rate_max),
    ("pss_peak_bytes", lambda row: row.pss_peak_bytes),
    ("pss_mean_bytes", lambda row: row.pss_mean_bytes),
    ("cgroup_peak_bytes", lambda row: row.cgroup_peak_bytes),
    ("rss_sum_peak_bytes", lambda row: row.rss_peak_bytes),
    ("server_cpu_s", lambda row: row.server_cpu_s),
    ("client_cpu_s", lambda row: row.client_cpu_s),
    ("client_cpu_share", lambda row: row.client_cpu_share),
    ("probe_connections", lambda row: row.probe_connections),
    ("answered_connections_min", lambda row: row.answered_connections_min),
    ("answered_fraction_min", lambda row: row.answered_fraction_min),
    ("answers_gini_max", lambda row: row.answers_gini_max),
    ("study_rps", lambda row: getattr(study_figure(row.config.server), "rps", None)),
    (
        "study_memory_mb_rss_sum",
        lambda row: getattr(study_figure(row.config.server), "memory_mb", None),
    ),
)

RUN_COLUMNS: tuple[tuple[str, Callable[[Run], Cell]], ...] = (
    ("file", lambda run: run.source),
    ("round", lambda run: run.round),
    *((name, lambda run, get=get: get(run.config)) for name, get in CONFIG_COLUMNS),
    ("endpoint", lambda run: run.endpoint),
    ("started_at", lambda run: run.started_at),
    ("threads", lambda run: run.load.threads),
    ("connections", lambda run: run.load.connections),
    ("duration_s", lambda run: run.load.duration_s),
    ("requests", lambda run: run.wrk.requests),
    ("rps", lambda run: run.wrk.rps),
    ("p50_us", lambda run: run.wrk.latency.p50_us),
    ("p99_us", lambda run: run.wrk.latency.p99_us),
    ("max_us", lambda run: run.wrk.latency.max_us),
    *(
        (f"errors_{kind}", lambda run, kind=kind: getattr(run.wrk.errors, kind))
        for kind in ERROR_KINDS
    ),
    ("error_rate", lambda run: run.wrk.error_rate),
    ("pss_peak_bytes", lambda run: run.resources.pss_peak_bytes if run.resources else None),
    ("rss_sum_peak_bytes", lambda run: run.resources.rss_peak_bytes if run.resources else None),
    ("cgroup_peak_bytes", lambda run: run.resources.cgroup_peak_bytes if run.resources else None),
    ("server_cpu_s", lambda run: run.resources.server_cpu_s if run.resources else None),
    ("client_cpu_s", lambda run: run.client_cpu_s),
    ("answered_fraction", lambda run: run.fairness.answered_fraction if run.fairness else None),
    ("answers_gini", lambda run: run.fairness.answers_gini if run.fairness else None),
)


# One row per fixed-rate point: (capacity of its config and endpoint, the point).
RatePointRow = tuple[Capacity, RatePoint]

RATE_COLUMNS: tuple[tuple[str, Callable[[RatePointRow], Cell]], ...] = (
    ("endpoint", lambda item: item[0].endpoint),
    *((name, lambda item, get=get: get(item[0].config)) for name, get in CONFIG_COLUMNS),
    ("slo_ms", lambda item: item[0].slo_ms),
    ("offered_rps", lambda item: item[1].offered_rps),
    ("reason", lambda item: item[1].reason),
    ("held", lambda item: "yes" if item[0].held(item[1]) else "no"),
    ("scheduled", lambda item: item[1].scheduled),
    ("sent", lambda item: item[1].sent),
    ("completed", lambda item: item[1].completed),
    ("achieved_rps", lambda item: item[1].achieved_rps),
    *(
        (f"errors_{kind}", lambda item, kind=kind: item[1].errors[kind])
        for kind in RATE_ERROR_KINDS
    ),
    ("p50_us", lambda item: item[1].p50_us),
    ("p99_us", lambda item: item[1].p99_us),
    ("service_p99_us", lambda item: item[1].service_p99_us),
    ("max_send_lag_us", lambda item: item[1].max_send_lag_us),
)


def dataset(
    file_name: str, columns: Sequence[tuple[str, Callable[[T], Cell]]], items: Sequence[T]
) -> Dataset:
    return Dataset(
        file_name=file_name,
        columns=tuple(name for name, _ in columns),
        rows=tuple(tuple(get(item) for _, get in columns) for item in items),
    )


def report_dataset(rows: Sequence[Row]) -> Dataset:
    return dataset("report.csv", REPORT_COLUMNS, rows)


def runs_dataset(runs: Sequence[Run]) -> Dataset:
    return dataset("runs.csv", RUN_COLUMNS, runs)


def rates_dataset(capacities: Sequence[Capacity]) -> Dataset:
    points = [(capacity, point) for capacity in capacities for point in capacity.points]
    return dataset("rates.csv", RATE_COLUMNS, points)
