"""Combine the runs of each config x endpoint across rounds, flag what cannot be trusted, rank.

A config is flagged, listed, and never ranked as a winner when
- ``starved``: the fairness probe saw a smaller answered fraction of its connections than
  ``Thresholds.min_answered_fraction`` (1.0 by default: every connection must get an answer)
  in any round. wrk's own numbers look excellent for such a server;
- ``errors``: more than ``Thresholds.max_error_rate`` (1 % by default) of the attempts failed
  (socket errors, timeouts, HTTP status > 399) in any round.
``unprobed`` (no fairness data) is shown but does not disqualify: fairness is then unknown.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields

from benchreport.config import Config
from benchreport.jsonfields import InputError
from benchreport.schema import ERROR_KINDS, Run, Thresholds
from benchreport.study import server_display_key

DISQUALIFYING_FLAGS = frozenset({"starved", "errors"})


@dataclass(frozen=True)
class Row:
    """One config x endpoint over all its rounds. Latencies in ms, memory in bytes."""

    config: Config  # identity shared by every round; knobs as in the first round
    endpoint: str
    # Config.description of the rounds, distinct: one unless the knobs differed between rounds.
    config_descriptions: tuple[str, ...]
    rounds: tuple[int, ...]
    settings: tuple[str, ...]
    rps_mean: float
    rps_median: float
    rps_min: float
    rps_max: float
    rps_spread_pct: float
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    p99_ms_max: float | None
    p99_9_ms: float | None
    max_ms: float | None
    requests: int
    errors: dict[str, int]
    error_rate: float
    error_rate_max: float
    pss_peak_bytes: int | None
    pss_mean_bytes: int | None
    rss_peak_bytes: int | None
    cgroup_peak_bytes: int | None
    server_cpu_s: float | None
    client_cpu_s: float | None
    client_cpu_share: float | None
    probe_connections: int | None
    answered_connections_min: int | None
    answered_fraction_min: float | None
    answers_gini_max: float | None
    flags: tuple[str, ...]
    flag_reasons: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def ranked(self) -> bool:
        return not DISQUALIFYING_FLAGS.intersection(self.flags)

    def to_json(self) -> dict[str, object]:
        document = {item.name: getattr(self, item.name) for item in fields(self)}
        document["config"] = {"name": self.config.name, **self.config.to_json()}
        document["ranked"] = self.ranked
        return document


def display_key(config: Config) -> tuple[int, str, str, str]:
    """Configs in display order: by server (the study's order, then by name), then by name."""
    return (*server_display_key(config.server), config.name, config.interface)


def _mean(values: Iterable[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.fmean(present) if present else None


def _max(values: Iterable[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return max(present) if present else None


def _ms(value_us: float | None) -> float | None:
    return value_us / 1000 if value_us is not None else None


def _int_or_none(value: float | None) -> int | None:
    return round(value) if value is not None else None


def aggregate_group(runs: list[Run], thresholds: Thresholds) -> Row:
    runs = sorted(runs, key=lambda run: run.round)
    first = runs[0]
    rps = [run.wrk.rps for run in runs]
    rps_mean = statistics.fmean(rps)
    errors = {kind: sum(getattr(run.wrk.errors, kind) for run in runs) for kind in ERROR_KINDS}
    requests = sum(run.wrk.requests for run in runs)
    failed_attempts = sum(run.wrk.errors.failed_attempts for run in runs)
    pooled_rate = min(1.0, sum(errors.values()) / (requests + failed_attempts)) if requests else 1.0
    resources = [run.resources for run in runs if run.resources is not None]
    probes = [(run, run.fairness) for run in runs if run.fairness is not None]

    shares = []
    for run in runs:
        server_cpu = run.resources.server_cpu_s if run.resources else None
        if run.client_cpu_s is not None and server_cpu is not None:
            total = run.client_cpu_s + server_cpu
            shares.append(run.client_cpu_s / total if total > 0 else None)

    flags: list[str] = []
    reasons: list[str] = []
    worst_rate_run = max(runs, key=lambda run: run.wrk.error_rate)
    if worst_rate_run.wrk.error_rate > thresholds.max_error_rate:
        flags.append("errors")
        kinds = ", ".join(
            f"{kind} {getattr(worst_rate_run.wrk.errors, kind)}"
            for kind in ERROR_KINDS
            if getattr(worst_rate_run.wrk.errors, kind)
        )
        reasons.append(
            f"errors: {100 * worst_rate_run.wrk.error_rate:.2f}% of attempts failed in round "
            f"{worst_rate_run.round} ({kinds or 'no request completed'}); limit "
            f"{100 * thresholds.max_error_rate:g}%"
        )
    if probes:
        worst_run, worst = min(probes, key=lambda pair: pair[1].answered_fraction)
        if worst.answered_fraction < thresholds.min_answered_fraction:
            flags.append("starved")
            reasons.append(
                f"starved: only {worst.answered_connections} of {worst.connections} probe "
                f"connections got an answer in round {worst_run.round} "
                f"({100 * worst.answered_fraction:.1f}%; answers per connection "
                f"min {worst.answers_min}, max {worst.answers_max}); limit "
                f"{100 * thresholds.min_answered_fraction:g}%"
            )
    else:
        flags.append("unprobed")
        reasons.append("unprobed: no fairness probe data, fairness unknown")

    notes = sorted({note for item in resources for note in item.notes})
    return Row(
        config=first.config,
        endpoint=first.endpoint,
        config_descriptions=tuple(dict.fromkeys(run.config.description for run in runs)),
        rounds=tuple(run.round for run in runs),
        settings=tuple(sorted({run.load.describe() for run in runs})),
        rps_mean=rps_mean,
        rps_median=statistics.median(rps),
        rps_min=min(rps),
        rps_max=max(rps),
        rps_spread_pct=100 * (max(rps) - min(rps)) / rps_mean if rps_mean > 0 else 0.0,
        p50_ms=_ms(_mean(run.wrk.latency.p50_us for run in runs)),
        p90_ms=_ms(_mean(run.wrk.latency.p90_us for run in runs)),
        p99_ms=_ms(_mean(run.wrk.latency.p99_us for run in runs)),
        p99_ms_max=_ms(_max(run.wrk.latency.p99_us for run in runs)),
        p99_9_ms=_ms(_mean(run.wrk.latency.p99_9_us for run in runs)),
        max_ms=_ms(_max(run.wrk.latency.max_us for run in runs)),
        requests=requests,
        errors=errors,
        error_rate=pooled_rate,
        error_rate_max=worst_rate_run.wrk.error_rate,
        pss_peak_bytes=_int_or_none(_max(item.pss_peak_bytes for item in resources)),
        pss_mean_bytes=_int_or_none(_mean(item.pss_mean_bytes for item in resources)),
        rss_peak_bytes=_int_or_none(_max(item.rss_peak_bytes for item in resources)),
        cgroup_peak_bytes=_int_or_none(_max(item.cgroup_peak_bytes for item in resources)),
        server_cpu_s=_mean(item.server_cpu_s for item in resources),
        client_cpu_s=_mean(run.client_cpu_s for run in runs),
        client_cpu_share=_mean(shares),
        probe_connections=max(probe.connections for _, probe in probes) if probes else None,
        answered_connections_min=(
            min(probe.answered_connections for _, probe in probes) if probes else None
        ),
        answered_fraction_min=min(probe.answered_fraction for _, probe in probes)
        if probes
        else None,
        answers_gini_max=max(probe.answers_gini for _, probe in probes) if probes else None,
        flags=tuple(flags),
        flag_reasons=tuple(reasons),
        notes=tuple(notes),
    )


def aggregate(runs: Iterable[Run], thresholds: Thresholds) -> list[Row]:
    """One row per config x endpoint, ordered by endpoint then display_key."""
    groups: dict[tuple[Config, str], list[Run]] = {}
    for run in runs:
        groups.setdefault(run.key, []).append(run)
    rows = [aggregate_group(group, thresholds) for group in groups.values()]
    return sorted(rows, key=lambda row: (row.endpoint, display_key(row.config)))


def endpoints(rows: Iterable[Row]) -> list[str]:
    return sorted({row.endpoint for row in rows})


def rank(
    rows: Iterable[Row], key: Callable[[Row], float | None], highest_first: bool
) -> list[tuple[int | None, Row]]:
    """Rank the trusted rows by ``key``; flagged rows (and rows without the metric) follow,
    unranked, in the same order."""
    rows = list(rows)

    def order(row: Row) -> float:
        value = key(row)
        if value is None:
            return float("inf")
        return -value if highest_first else value

    def rankable(row: Row) -> bool:
        return row.ranked and key(row) is not None

    trusted = sorted((row for row in rows if rankable(row)), key=order)
    others = sorted((row for row in rows if not rankable(row)), key=order)
    return [(index + 1, row) for index, row in enumerate(trusted)] + [(None, row) for row in others]


def rps_ranking(rows: Iterable[Row]) -> list[tuple[int | None, Row]]:
    return rank(rows, lambda row: row.rps_mean, highest_first=True)


def memory_ranking(rows: Iterable[Row]) -> list[tuple[int | None, Row]]:
    return rank(
        rows,
        lambda row: float(row.pss_peak_bytes) if row.pss_peak_bytes is not None else None,
        highest_first=False,
    )


def winner(rows: Iterable[Row]) -> Row | None:
    """The fastest config that is not flagged, or None when every config is flagged."""
    ranking = rps_ranking(rows)
    return ranking[0][1] if ranking and ranking[0][0] == 1 else None


# The endpoint the study measured and the headline numbers (study table, trend) are taken on.
HEADLINE_ENDPOINT = "health"


def headline_endpoint(rows: Iterable[Row]) -> str | None:
    """``health`` when it was run, else the endpoint most configs ran (then by name)."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.endpoint] = counts.get(row.endpoint, 0) + 1
    if HEADLINE_ENDPOINT in counts:
        return HEADLINE_ENDPOINT
    return min(counts, key=lambda name: (-counts[name], name)) if counts else None


def index_by_name(rows: Sequence[Row], source: str) -> dict[tuple[str, str], Row]:
    """Rows by (config name, endpoint); two configs of one set with the same name (they differ
    in interface only) cannot be paired and are an error."""
    index: dict[tuple[str, str], Row] = {}
    for row in rows:
        key = (row.config.name, row.endpoint)
        if key in index:
            raise InputError(
                f"{source}: two configs named {key[0]!r} on endpoint {key[1]!r} "
                f"({index[key].config.interface} and {row.config.interface}); compare pairs "
                "configs by name, so it cannot tell them apart"
            )
        index[key] = row
    return index
