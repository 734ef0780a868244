"""The report of one result set as a Document, built once from results.json: verdict,
settings, host and versions, per endpoint the study's rankings and the detail tables, flagged
configs, sampler notes, how to read it, the runs, the charts and the CSV datasets."""

from __future__ import annotations

from collections.abc import Sequence

from benchreport.aggregate import Row, aggregate, endpoints, winner
from benchreport.chart_specs import report_charts
from benchreport.datasets import report_dataset, runs_dataset
from benchreport.document import (
    Block,
    BulletList,
    Document,
    Figure,
    Paragraph,
    Section,
    Text,
    code,
    strong,
    text,
)
from benchreport.schema import ResultSet
from benchreport.tables import (
    RPS_RANKING,
    endpoint_tables,
    fmt,
    fmt_mib,
    host_table,
    runs_table,
)

METHOD_NOTES: tuple[Text, ...] = (
    text(
        strong("req/s"),
        " is wrk's completed requests over the run's duration; rounds are interleaved "
        "(every server, then every server again), and min – max shows their spread.",
    ),
    text(
        strong("Flags"),
        ": ",
        code("starved"),
        " = the fairness probe found connections that never got an answer (wrk shows such a "
        "server as fast and error-free); ",
        code("errors"),
        " = more than the allowed share of attempts failed; ",
        code("unprobed"),
        " = fairness not measured. ",
        code("starved"),
        " and ",
        code("errors"),
        " configs are never ranked as winners.",
    ),
    text(
        strong("Memory"),
        " is PSS summed over the server's processes (shared pages divided among sharers), not "
        "summed RSS, which counts a forked worker's shared pages once per worker.",
    ),
    text(
        strong("Client CPU"),
        " is wrk's own CPU time; when wrk shares the server's cores it takes that time from "
        "the server.",
    ),
)


def rows_of(rows: Sequence[Row], endpoint: str) -> list[Row]:
    return [row for row in rows if row.endpoint == endpoint]


def verdicts(rows: Sequence[Row]) -> tuple[Text, ...]:
    """One sentence per endpoint: the fastest trusted config, or why there is none."""
    lines = []
    for endpoint in endpoints(rows):
        best = winner(rows_of(rows, endpoint))
        if best is None:
            lines.append(text(code(endpoint), ": no winner, every config is flagged."))
        else:
            lines.append(
                text(
                    code(endpoint),
                    f": fastest unflagged config is {best.config.name} "
                    f"({best.rps_mean:,.1f} req/s, p99 {fmt(best.p99_ms, 2)} ms, "
                    f"PSS peak {fmt_mib(best.pss_peak_bytes)} MiB).",
                )
            )
    return tuple(lines)


def load_settings(result_set: ResultSet) -> str:
    """The distinct wrk settings of a result set, e.g. ``wrk -t4 -c200 -d30s --timeout 2s``."""
    return "; ".join(sorted({run.load.describe() for run in result_set.runs}))


def settings(result_set: ResultSet) -> tuple[Text, ...]:
    rounds = sorted({run.round for run in result_set.runs})
    probes = sorted(
        {
            f"{run.fairness.connections} connections, {run.fairness.phase} wrk"
            for run in result_set.runs
            if run.fairness
        }
    )
    thresholds = result_set.thresholds
    sweep = result_set.sweep
    reproduce = (
        (text("Run with: ", code(sweep.command), f" (project commit {sweep.project_commit})"),)
        if sweep
        else ()
    )
    return (
        *reproduce,
        text(f"Load: {load_settings(result_set)}"),
        text(f"Rounds: {len(rounds)} ({', '.join(map(str, rounds))}), {len(result_set.runs)} runs"),
        text(f"Fairness probe: {'; '.join(probes) if probes else 'not run'}"),
        text(
            f"Flag limits: answered connections < {100 * thresholds.min_answered_fraction:g}% "
            f"= starved; errors > {100 * thresholds.max_error_rate:g}% of attempts = errors"
        ),
    )


def flagged_configs(rows: Sequence[Row]) -> Paragraph | BulletList:
    items = tuple(
        text(strong(row.config.name), " / ", code(row.endpoint), f": {reason}")
        for row in rows
        for reason in row.flag_reasons
    )
    return BulletList(items) if items else Paragraph(text("None."))


def sampler_notes(rows: Sequence[Row]) -> tuple[Text, ...]:
    notes = dict.fromkeys((row.config.name, note) for row in rows for note in row.notes)
    return tuple(text(f"{name}: {note}") for name, note in sorted(notes))


def build_report(result_set: ResultSet) -> Document:
    """The report of a result set; its rows are aggregated from the runs here, once."""
    rows = aggregate(result_set.runs, result_set.thresholds)
    charts = report_charts(rows)
    notes = sampler_notes(rows)
    sections = [
        Section(text("Verdict"), (BulletList(verdicts(rows)),)),
        Section(text("Settings"), (BulletList(settings(result_set)),)),
        Section(text("Host and versions"), (host_table(result_set),)),
        Section(text("Charts"), tuple(Figure(chart.path) for chart in charts)),
        *(
            Section(
                text("Endpoint ", code(endpoint)),
                endpoint_tables(rows_of(rows, endpoint), endpoint),
            )
            for endpoint in endpoints(rows)
        ),
        Section(text("Flagged configs"), (flagged_configs(rows),)),
        *([Section(text("Sampler notes"), (BulletList(notes),))] if notes else []),
        Section(text("How to read this"), (BulletList(METHOD_NOTES),)),
        Section(text("Runs"), (runs_table(result_set.runs),)),
    ]
    console: tuple[Block, ...] = (
        *(RPS_RANKING.table(rows_of(rows, endpoint), endpoint) for endpoint in endpoints(rows)),
        BulletList(verdicts(rows)),
    )
    return Document(
        file_stem="report",
        title=f"Django Server Lab benchmark: {result_set.label}",
        intro=(Paragraph(text(f"Results combined {result_set.created_at}.")),),
        sections=tuple(sections),
        charts=charts,
        datasets=(report_dataset(rows), runs_dataset(result_set.runs)),
        console=console,
    )
