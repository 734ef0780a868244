"""Two result sets side by side (two VMs, or before/after a change): req/s, p99 and PSS per
server x endpoint with deltas, plus the host facts and versions that differ."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchreport.aggregate import Row, aggregate
from benchreport.charts import Series, bar_chart
from benchreport.render_csv import write_csv
from benchreport.render_html import STYLE, data_uri, html_table, inline_code
from benchreport.render_markdown import markdown_table
from benchreport.schema import ResultSet
from benchreport.study import server_sort_key
from benchreport.tables import DASH, Table, fmt, fmt_flags, fmt_mib, text_table


@dataclass(frozen=True)
class Pair:
    server: str
    endpoint: str
    a: Row | None
    b: Row | None


def pair_rows(rows_a: Sequence[Row], rows_b: Sequence[Row]) -> list[Pair]:
    index_a = {(row.server, row.endpoint): row for row in rows_a}
    index_b = {(row.server, row.endpoint): row for row in rows_b}
    keys = sorted(set(index_a) | set(index_b), key=lambda k: (k[1], server_sort_key(k[0])))
    return [
        Pair(server, endpoint, index_a.get((server, endpoint)), index_b.get((server, endpoint)))
        for server, endpoint in keys
    ]


def delta_pct(before: float | None, after: float | None) -> float | None:
    if before is None or after is None or before == 0:
        return None
    return 100 * (after - before) / before


def fmt_delta(value: float | None) -> str:
    return DASH if value is None else f"{value:+.1f}%"


def _value(row: Row | None, name: str) -> float | None:
    if row is None:
        return None
    value = getattr(row, name)
    return float(value) if value is not None else None


def compare_table(pairs: Sequence[Pair]) -> Table:
    rows = []
    for pair in pairs:
        rps_a, rps_b = _value(pair.a, "rps_mean"), _value(pair.b, "rps_mean")
        p99_a, p99_b = _value(pair.a, "p99_ms"), _value(pair.b, "p99_ms")
        pss_a, pss_b = _value(pair.a, "pss_peak_bytes"), _value(pair.b, "pss_peak_bytes")
        rows.append(
            (
                pair.server,
                pair.endpoint,
                fmt(rps_a),
                fmt(rps_b),
                fmt_delta(delta_pct(rps_a, rps_b)),
                fmt(p99_a, 2),
                fmt(p99_b, 2),
                fmt_delta(delta_pct(p99_a, p99_b)),
                fmt_mib(pss_a),
                fmt_mib(pss_b),
                fmt_delta(delta_pct(pss_a, pss_b)),
                fmt_flags(pair.a) if pair.a else "not run",
                fmt_flags(pair.b) if pair.b else "not run",
            )
        )
    return Table(
        title="A vs B per server and endpoint",
        columns=(
            "Server",
            "Endpoint",
            "req/s A",
            "req/s B",
            "Δ req/s",
            "p99 ms A",
            "p99 ms B",
            "Δ p99",
            "PSS MiB A",
            "PSS MiB B",
            "Δ PSS",
            "Flags A",
            "Flags B",
        ),
        rows=rows,
        numeric=frozenset(range(2, 11)),
        caption="Δ = (B − A) / A. req/s: higher is better; p99 and PSS: lower is better. "
        "A flagged config's numbers are not trustworthy on that side.",
    )


def facts_table(set_a: ResultSet, set_b: ResultSet) -> Table:
    def facts(result_set: ResultSet) -> dict[str, str]:
        host, versions = result_set.host, result_set.versions
        found = {
            "Result set": result_set.label,
            "Host": host.hostname or DASH,
            "CPU": host.cpu_model,
            "vCPUs": str(host.vcpus),
            "Memory": f"{host.memory_bytes / 2**30:.1f} GiB",
            "Kernel": host.kernel,
            "OS": host.os,
            "Python": versions.python,
            "Django": versions.django,
            "wrk": versions.wrk,
            "Load": "; ".join(sorted({run.load.describe() for run in result_set.runs})),
            "Rounds": str(len({run.round for run in result_set.runs})),
        }
        found.update({name: value or DASH for name, value in versions.servers.items()})
        return found

    facts_a, facts_b = facts(set_a), facts(set_b)
    names = list(facts_a) + [name for name in facts_b if name not in facts_a]
    return Table(
        title="Host, versions and settings",
        columns=("Fact", "A", "B", "same?"),
        rows=[
            (
                name,
                facts_a.get(name, DASH),
                facts_b.get(name, DASH),
                "yes" if facts_a.get(name) == facts_b.get(name) else "DIFFERS",
            )
            for name in names
        ],
    )


def compare_chart(pairs: Sequence[Pair], label_a: str, label_b: str) -> bytes:
    categories = [f"{pair.server}\n{pair.endpoint}" for pair in pairs]

    def series(label: str, side: str) -> Series:
        rows = [getattr(pair, side) for pair in pairs]
        return Series(
            label=label,
            values=[_value(row, "rps_mean") for row in rows],
            lows=[_value(row, "rps_min") for row in rows],
            highs=[_value(row, "rps_max") for row in rows],
            flagged=[row is not None and not row.ranked for row in rows],
        )

    return bar_chart(
        categories,
        [series(f"A: {label_a}", "a"), series(f"B: {label_b}", "b")],
        "Requests per second, A vs B (whiskers: min–max over rounds)",
        "req/s",
    )


def render_compare(set_a: ResultSet, set_b: ResultSet, output_dir: Path) -> str:
    """Write compare.md, compare.csv, compare.html and charts/compare_rps.png; return the
    comparison as plain text for the terminal."""
    rows_a = aggregate(set_a.runs, set_a.thresholds)
    rows_b = aggregate(set_b.runs, set_b.thresholds)
    pairs = pair_rows(rows_a, rows_b)
    comparison, facts = compare_table(pairs), facts_table(set_a, set_b)
    chart = compare_chart(pairs, set_a.label, set_b.label)
    legend = f"A = {set_a.label} ({set_a.source}); B = {set_b.label} ({set_b.source})"

    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "charts").mkdir(exist_ok=True)
    (output_dir / "charts" / "compare_rps.png").write_bytes(chart)
    markdown = "\n".join(
        [
            f"# Benchmark comparison: {set_a.label} vs {set_b.label}",
            "",
            legend,
            "",
            markdown_table(comparison, level=2),
            "",
            markdown_table(facts, level=2),
            "",
            "![compare_rps.png](charts/compare_rps.png)",
            "",
        ]
    )
    (output_dir / "compare.md").write_text(markdown, encoding="utf-8")
    (output_dir / "compare.csv").write_text(
        write_csv(
            [
                "endpoint",
                "server",
                "rps_a",
                "rps_b",
                "rps_delta_pct",
                "p99_ms_a",
                "p99_ms_b",
                "p99_delta_pct",
                "pss_peak_bytes_a",
                "pss_peak_bytes_b",
                "pss_delta_pct",
                "ranked_a",
                "ranked_b",
            ],
            [
                [
                    pair.endpoint,
                    pair.server,
                    _value(pair.a, "rps_mean"),
                    _value(pair.b, "rps_mean"),
                    delta_pct(_value(pair.a, "rps_mean"), _value(pair.b, "rps_mean")),
                    _value(pair.a, "p99_ms"),
                    _value(pair.b, "p99_ms"),
                    delta_pct(_value(pair.a, "p99_ms"), _value(pair.b, "p99_ms")),
                    pair.a.pss_peak_bytes if pair.a else None,
                    pair.b.pss_peak_bytes if pair.b else None,
                    delta_pct(_value(pair.a, "pss_peak_bytes"), _value(pair.b, "pss_peak_bytes")),
                    ("yes" if pair.a.ranked else "no") if pair.a else None,
                    ("yes" if pair.b.ranked else "no") if pair.b else None,
                ]
                for pair in pairs
            ],
        ),
        encoding="utf-8",
    )
    title = f"Benchmark comparison: {set_a.label} vs {set_b.label}"
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
            f"<h1>{html.escape(title)}</h1>",
            f"<p>{inline_code(legend)}</p>",
            html_table(comparison, level=2),
            f'<figure><img alt="compare_rps.png" src="{data_uri(chart)}"></figure>',
            html_table(facts, level=2),
            "</body></html>\n",
        ]
    )
    (output_dir / "compare.html").write_text(page, encoding="utf-8")
    return legend + "\n\n" + text_table(comparison)
