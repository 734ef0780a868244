"""The report of one result set as a Document, built once from results.json: capacity at SLO
(the headline), verdict, spread and ranking, ceiling share, the app profile and the study, the
trend over earlier sweeps, where the time went, settings, host and versions, per endpoint the
study's closed-loop rankings and the detail tables, flagged configs, sampler notes, how to read
it, the runs, the charts and the CSV datasets."""

from __future__ import annotations

from collections.abc import Sequence

from benchreport.aggregate import Row, aggregate, endpoints, headline_endpoint, winner
from benchreport.capacity import Capacity, capacities
from benchreport.ceiling_share import ceiling_shares
from benchreport.chart_specs import rates_chart, report_charts, spread_chart, trend_chart
from benchreport.cluster import database_table, distribution_table, topology_blocks
from benchreport.datasets import rates_dataset, report_dataset, runs_dataset
from benchreport.document import (
    Block,
    BulletList,
    ChartSpec,
    Document,
    Figure,
    LineChartSpec,
    Paragraph,
    Section,
    Text,
    code,
    strong,
    text,
)
from benchreport.schema import ResultSet
from benchreport.sections import (
    capacity_table,
    capacity_verdicts,
    ceiling_table,
    spread_note,
    spread_table,
    study_blocks,
    timing_table,
    trend_table,
)
from benchreport.tables import (
    RPS_RANKING,
    endpoint_tables,
    fmt,
    fmt_mib,
    host_table,
    runs_table,
)
from benchreport.trend import build_trend

METHOD_NOTES: tuple[Text, ...] = (
    text(
        strong("Capacity at SLO"),
        " comes from fixed-rate (open-loop) runs: requests are sent on a schedule whatever the "
        "server does, and latency counts from when each was due, so a stall shows in p99. The "
        "closed-loop wrk runs below send the next request only after an answer: they measure "
        "throughput at saturation, the study's view, not what a user at a given traffic sees.",
    ),
    text(
        strong("Ranking"),
        ": configs whose min – max req/s over the rounds overlap share a place; a spread above "
        "10% of the median is flagged.",
    ),
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
                    f": fastest unflagged config in the closed loop is {best.config.name} "
                    f"({best.rps_mean:,.1f} req/s, p99 {fmt(best.p99_ms, 2)} ms, "
                    f"PSS peak {fmt_mib(best.pss_peak_bytes)} MiB).",
                )
            )
    return tuple(lines)


def load_settings(result_set: ResultSet) -> str:
    """The distinct wrk settings of a result set, e.g. ``wrk -t4 -c200 -d30s --timeout 2s``."""
    return "; ".join(sorted({run.load.describe() for run in result_set.runs}))


def fmt_numbers(values: Sequence[float] | None) -> str:
    return ", ".join(f"{value:g}" for value in values) if values else "none"


def rate_settings(result_set: ResultSet) -> tuple[Text, ...]:
    """What the sweep asked of the fixed-rate runs (sweep.json), when it says."""
    sweep = result_set.sweep
    if sweep is None or (sweep.slo_ms is None and sweep.rate_fractions is None):
        return ()
    slo = f"p99 <= {sweep.slo_ms:g} ms" if sweep.slo_ms is not None else "not given"
    return (
        text(
            f"Fixed-rate runs: SLO {slo}; fractions of the best server's maximum "
            f"{fmt_numbers(sweep.rate_fractions)}; of each config's own maximum "
            f"{fmt_numbers(sweep.knee_fractions)}; absolute rates {fmt_numbers(sweep.rates)}"
            + (
                f"; halvings of the lowest rate when none is held: {sweep.rate_descent}"
                if sweep.rate_descent is not None
                else ""
            )
        ),
    )


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
        *rate_settings(result_set),
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


def capacity_section(
    rows: Sequence[Row], capacity: Sequence[Capacity]
) -> tuple[Section, list[LineChartSpec]]:
    charts = [
        rates_chart(endpoint, [item for item in capacity if item.endpoint == endpoint])
        for endpoint in sorted({item.endpoint for item in capacity if item.points})
    ]
    configs = [row.config for row in rows]
    blocks = (capacity_table(capacity, configs), *(Figure(chart.path) for chart in charts))
    return Section(text("Capacity at SLO"), blocks), charts


def spread_section(rows: Sequence[Row]) -> tuple[Section, ChartSpec]:
    chart = spread_chart(rows)
    note = spread_note(rows)
    blocks: list[Block] = [
        *([note] if note else []),
        *(spread_table(rows_of(rows, endpoint), endpoint) for endpoint in endpoints(rows)),
        Figure(chart.path),
    ]
    return Section(text("Spread and ranking"), tuple(blocks)), chart


def trend_section(
    result_set: ResultSet, rows: Sequence[Row], earlier: Sequence[ResultSet], notes: Sequence[str]
) -> tuple[Section, list[LineChartSpec]]:
    endpoint = headline_endpoint(rows)
    trend = build_trend(result_set, earlier, endpoint) if endpoint and earlier else None
    note_list = [*notes, *(trend.notes if trend else ())]
    notes_block = [BulletList(tuple(text(note) for note in note_list))] if note_list else []
    if trend is None or len(trend.points) < 2:
        where = result_set.directory.parent
        empty = Paragraph(text(f"No earlier sweep with a results.json beside this one in {where}."))
        return Section(text("Trend"), (empty, *notes_block)), []
    chart = trend_chart(trend)
    blocks: tuple[Block, ...] = (trend_table(trend), Figure(chart.path), *notes_block)
    return Section(text("Trend"), blocks), [chart]


def build_report(
    result_set: ResultSet,
    earlier: Sequence[ResultSet] = (),
    earlier_notes: Sequence[str] = (),
) -> Document:
    """The report of a result set; its rows are aggregated from the runs here, once.
    ``earlier`` are the sweeps before it (trend.earlier_sets), oldest first."""
    rows = aggregate(result_set.runs, result_set.thresholds)
    capacity = capacities(result_set.rates)
    closed_loop_charts = report_charts(rows)
    capacity_part, rates_charts = capacity_section(rows, capacity)
    spread_part, chart_of_spread = spread_section(rows)
    trend_part, trend_charts = trend_section(result_set, rows, earlier, earlier_notes)
    profile = study_blocks(result_set.sweep, rows, headline_endpoint(rows))
    notes = sampler_notes(rows)
    ceiling, timing = result_set.ceiling, result_set.timing
    shares = ceiling_shares(result_set.runs, ceiling) if ceiling else []
    topology = result_set.topology
    distribution = distribution_table(result_set.runs, topology)
    databases = database_table(rows)
    sections = [
        *([Section(text("Topology"), topology_blocks(topology))] if topology else []),
        capacity_part,
        Section(text("Verdict"), (BulletList((*capacity_verdicts(capacity), *verdicts(rows))),)),
        *([Section(text("Answers per app host"), (distribution,))] if distribution else []),
        *([Section(text("SQLite and PostgreSQL"), (databases,))] if databases else []),
        spread_part,
        *(
            [Section(text("Ceiling share"), (ceiling_table(shares, ceiling, result_set.sweep),))]
            if ceiling
            else []
        ),
        Section(text("App profile and the study"), tuple(profile)),
        trend_part,
        *([Section(text("Where the time went"), (timing_table(timing),))] if timing else []),
        Section(text("Settings"), (BulletList(settings(result_set)),)),
        Section(text("Host and versions"), (host_table(result_set),)),
        Section(
            text("Charts (closed loop)"), tuple(Figure(chart.path) for chart in closed_loop_charts)
        ),
        *(
            Section(
                text("Endpoint ", code(endpoint), " (closed loop: the study's view)"),
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
        *(topology_blocks(topology)[:2] if topology else ()),
        capacity_table(capacity, [row.config for row in rows]),
        *(RPS_RANKING.table(rows_of(rows, endpoint), endpoint) for endpoint in endpoints(rows)),
        BulletList((*capacity_verdicts(capacity), *verdicts(rows))),
        *profile,
        *((distribution,) if distribution else ()),
        *((databases,) if databases else ()),
    )
    return Document(
        file_stem="report",
        title=f"Django Server Lab benchmark: {result_set.label}",
        intro=(Paragraph(text(f"Results combined {result_set.created_at}.")),),
        sections=tuple(sections),
        charts=(*rates_charts, chart_of_spread, *trend_charts, *closed_loop_charts),
        datasets=(
            report_dataset(rows),
            runs_dataset(result_set.runs),
            *([rates_dataset(capacity)] if capacity else []),
        ),
        console=console,
    )
