"""Two result sets side by side (two VMs, or before/after a change) as a Document: req/s, p99
and PSS per config x endpoint with deltas, the req/s chart, and the host facts, versions and
settings with differences marked. Rows of the two sets pair by (config name, endpoint)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from benchreport.aggregate import Row, aggregate, display_key, index_by_name
from benchreport.chart_specs import RPS, chart_spec
from benchreport.config import Config
from benchreport.datasets import dataset
from benchreport.document import Cell, Document, Figure, Paragraph, Section, Table, text
from benchreport.report import load_settings
from benchreport.schema import ResultSet
from benchreport.tables import (
    DASH,
    Column,
    build_table,
    delta_pct,
    fmt,
    fmt_delta,
    fmt_flags,
    fmt_mib,
    host_facts,
    server_versions,
    version_facts,
)

Metric = Callable[[Row], float | None]


@dataclass(frozen=True)
class Pair:
    """One config x endpoint in set A and in set B (None where that set did not run it)."""

    config: Config  # from A where A ran it, else from B
    endpoint: str
    a: Row | None
    b: Row | None

    def values(self, metric: Metric) -> tuple[float | None, float | None]:
        return (
            metric(self.a) if self.a is not None else None,
            metric(self.b) if self.b is not None else None,
        )

    def delta_pct(self, metric: Metric) -> float | None:
        return delta_pct(*self.values(metric))


def pair_rows(set_a: ResultSet, set_b: ResultSet) -> list[Pair]:
    index_a = index_by_name(aggregate(set_a.runs, set_a.thresholds), set_a.source)
    index_b = index_by_name(aggregate(set_b.runs, set_b.thresholds), set_b.source)
    pairs = []
    for key in index_a.keys() | index_b.keys():
        a, b = index_a.get(key), index_b.get(key)
        present = a or b
        assert present is not None  # the key came from one of the two indexes
        pairs.append(Pair(present.config, key[1], a, b))
    return sorted(pairs, key=lambda pair: (pair.endpoint, display_key(pair.config)))


def rps(row: Row) -> float | None:
    return row.rps_mean


def p99(row: Row) -> float | None:
    return row.p99_ms


def pss(row: Row) -> float | None:
    return float(row.pss_peak_bytes) if row.pss_peak_bytes is not None else None


def _side_columns(
    header: str, delta_header: str, metric: Metric, show: Callable[[float | None], str]
) -> list[Column[Pair]]:
    """A metric's value in A, in B, and the change from A to B."""
    return [
        Column[Pair](f"{header} A", lambda pair: show(pair.values(metric)[0]), numeric=True),
        Column[Pair](f"{header} B", lambda pair: show(pair.values(metric)[1]), numeric=True),
        Column[Pair](delta_header, lambda pair: fmt_delta(pair.delta_pct(metric)), numeric=True),
    ]


def _flags(row: Row | None) -> str:
    return fmt_flags(row) if row is not None else "not run"


def comparison_table(pairs: Sequence[Pair]) -> Table:
    columns = [
        Column[Pair]("Server", lambda pair: pair.config.name),
        Column[Pair]("Endpoint", lambda pair: pair.endpoint),
        *_side_columns("req/s", "Δ req/s", rps, fmt),
        *_side_columns("p99 ms", "Δ p99", p99, lambda value: fmt(value, 2)),
        *_side_columns("PSS MiB", "Δ PSS", pss, fmt_mib),
        Column[Pair]("Flags A", lambda pair: _flags(pair.a)),
        Column[Pair]("Flags B", lambda pair: _flags(pair.b)),
    ]
    return build_table(
        (),
        columns,
        pairs,
        caption="Δ = (B − A) / A. req/s: higher is better; p99 and PSS: lower is better. "
        "A flagged config's numbers are not trustworthy on that side.",
    )


def facts(result_set: ResultSet) -> dict[str, str]:
    runs = result_set.runs
    return dict(
        [
            ("Result set", result_set.label),
            *host_facts(result_set.host),
            *version_facts(result_set.versions),
            ("Load", load_settings(result_set)),
            ("Rounds", str(len({run.round for run in runs}))),
            *server_versions(result_set.versions),
        ]
    )


def facts_table(set_a: ResultSet, set_b: ResultSet) -> Table:
    facts_a, facts_b = facts(set_a), facts(set_b)
    names = list(dict.fromkeys([*facts_a, *facts_b]))
    return Table(
        title=(),
        columns=("Fact", "A", "B", "same?"),
        rows=tuple(
            (
                name,
                facts_a.get(name, DASH),
                facts_b.get(name, DASH),
                "yes" if facts_a.get(name) == facts_b.get(name) else "DIFFERS",
            )
            for name in names
        ),
    )


def _ranked(row: Row | None) -> Cell:
    return None if row is None else ("yes" if row.ranked else "no")


def _pss_bytes(row: Row | None) -> Cell:
    return row.pss_peak_bytes if row is not None else None


COMPARE_COLUMNS: tuple[tuple[str, Callable[[Pair], Cell]], ...] = (
    ("endpoint", lambda pair: pair.endpoint),
    ("config", lambda pair: pair.config.name),
    ("rps_a", lambda pair: pair.values(rps)[0]),
    ("rps_b", lambda pair: pair.values(rps)[1]),
    ("rps_delta_pct", lambda pair: pair.delta_pct(rps)),
    ("p99_ms_a", lambda pair: pair.values(p99)[0]),
    ("p99_ms_b", lambda pair: pair.values(p99)[1]),
    ("p99_delta_pct", lambda pair: pair.delta_pct(p99)),
    ("pss_peak_bytes_a", lambda pair: _pss_bytes(pair.a)),
    ("pss_peak_bytes_b", lambda pair: _pss_bytes(pair.b)),
    ("pss_delta_pct", lambda pair: pair.delta_pct(pss)),
    ("ranked_a", lambda pair: _ranked(pair.a)),
    ("ranked_b", lambda pair: _ranked(pair.b)),
)


def build_comparison(set_a: ResultSet, set_b: ResultSet) -> Document:
    pairs = pair_rows(set_a, set_b)
    table = comparison_table(pairs)
    heading = text("A vs B per config and endpoint")
    chart = chart_spec(
        "compare_rps.png",
        "Requests per second, A vs B (whiskers: min–max over rounds)",
        "req/s",
        categories=[f"{pair.config.name}\n{pair.endpoint}" for pair in pairs],
        groups=[
            (f"A: {set_a.label}", [pair.a for pair in pairs]),
            (f"B: {set_b.label}", [pair.b for pair in pairs]),
        ],
        measure=RPS,
    )
    legend = Paragraph(
        text(f"A = {set_a.label} ({set_a.source}); B = {set_b.label} ({set_b.source})")
    )
    return Document(
        file_stem="compare",
        title=f"Benchmark comparison: {set_a.label} vs {set_b.label}",
        intro=(legend,),
        sections=(
            Section(heading, (table,)),
            Section(text("Charts"), (Figure(chart.path),)),
            Section(text("Host, versions and settings"), (facts_table(set_a, set_b),)),
        ),
        charts=(chart,),
        datasets=(dataset("compare.csv", COMPARE_COLUMNS, pairs),),
        console=(legend, replace(table, title=heading)),
    )
