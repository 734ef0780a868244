"""report.csv (one row per server x endpoint) and runs.csv (one row per run).

Units are in the column names; an empty cell means "not measured".
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence

from benchreport.aggregate import Row
from benchreport.schema import ERROR_KINDS, Run
from benchreport.study import study_figure

Cell = str | int | float | None


def cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if math.isfinite(value) else ""
    return str(value)


def write_csv(header: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([cell(value) for value in row] for row in rows)
    return buffer.getvalue()


REPORT_COLUMNS: tuple[tuple[str, Callable[[Row], Cell]], ...] = (
    ("endpoint", lambda row: row.endpoint),
    ("server", lambda row: row.server),
    ("config", lambda row: "; ".join(row.configs)),
    ("rounds", lambda row: len(row.rounds)),
    ("ranked", lambda row: "yes" if row.ranked else "no"),
    ("flags", lambda row: " ".join(row.flags)),
    ("rps_mean", lambda row: row.rps_mean),
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
    ("study_rps", lambda row: getattr(study_figure(row.server), "rps", None)),
    ("study_memory_mb_rss_sum", lambda row: getattr(study_figure(row.server), "memory_mb", None)),
)


def _pss(run: Run) -> Cell:
    return run.resources.pss_peak_bytes if run.resources else None


RUN_COLUMNS: tuple[tuple[str, Callable[[Run], Cell]], ...] = (
    ("file", lambda run: run.source),
    ("round", lambda run: run.round),
    ("server", lambda run: run.server),
    ("endpoint", lambda run: run.endpoint),
    ("config", lambda run: run.config),
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
    ("pss_peak_bytes", _pss),
    ("rss_sum_peak_bytes", lambda run: run.resources.rss_peak_bytes if run.resources else None),
    ("cgroup_peak_bytes", lambda run: run.resources.cgroup_peak_bytes if run.resources else None),
    ("server_cpu_s", lambda run: run.resources.server_cpu_s if run.resources else None),
    ("client_cpu_s", lambda run: run.client_cpu_s),
    ("answered_fraction", lambda run: run.fairness.answered_fraction if run.fairness else None),
    ("answers_gini", lambda run: run.fairness.answers_gini if run.fairness else None),
)


def render_report_csv(rows: Sequence[Row]) -> str:
    return write_csv(
        [name for name, _ in REPORT_COLUMNS],
        [[getter(row) for _, getter in REPORT_COLUMNS] for row in rows],
    )


def render_runs_csv(runs: Sequence[Run]) -> str:
    return write_csv(
        [name for name, _ in RUN_COLUMNS],
        [[getter(run) for _, getter in RUN_COLUMNS] for run in runs],
    )
