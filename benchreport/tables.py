"""The report's tables as data, rendered by Markdown, HTML and plain text alike.

One builder per table keeps the three outputs from drifting apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from benchreport.aggregate import Row, endpoints, memory_ranking, rps_ranking, winner
from benchreport.schema import ResultSet, Run
from benchreport.study import STUDY_CAPTION, server_sort_key, study_figure

MIB = 2**20
DASH = "–"


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    numeric: frozenset[int] = field(default_factory=frozenset)  # right-aligned column indexes
    caption: str = ""


def fmt(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f"{value:,.{digits}f}"


def fmt_mib(value: float | None) -> str:
    return DASH if value is None else f"{value / MIB:,.1f}"


def fmt_pct(value: float | None, digits: int = 2) -> str:
    return DASH if value is None else f"{100 * value:.{digits}f}%"


def fmt_flags(row: Row) -> str:
    return ", ".join(row.flags) if row.flags else "ok"


def fmt_rank(rank: int | None) -> str:
    return str(rank) if rank is not None else "not ranked"


def config_text(row: Row) -> str:
    return "; ".join(row.configs) if row.configs else DASH


def rps_table(rows: Sequence[Row], endpoint: str) -> Table:
    table_rows = []
    for rank, row in rps_ranking(rows):
        study = study_figure(row.server)
        table_rows.append(
            (
                fmt_rank(rank),
                row.server,
                config_text(row),
                fmt(row.rps_mean),
                f"{fmt(row.rps_min)} {DASH} {fmt(row.rps_max)}",
                fmt(row.rps_spread_pct),
                str(len(row.rounds)),
                fmt(study.rps, 0) if study else DASH,
                fmt_flags(row),
            )
        )
    return Table(
        title=f"Requests per second, endpoint `{endpoint}` (ranking)",
        columns=(
            "Rank",
            "Server",
            "Config",
            "req/s (mean)",
            "min – max",
            "spread %",
            "rounds",
            "Study req/s",
            "Flags",
        ),
        rows=table_rows,
        numeric=frozenset({3, 4, 5, 6, 7}),
        caption="Flagged configs are listed but not ranked. " + STUDY_CAPTION,
    )


def memory_table(rows: Sequence[Row], endpoint: str) -> Table:
    table_rows = []
    for rank, row in memory_ranking(rows):
        study = study_figure(row.server)
        table_rows.append(
            (
                fmt_rank(rank),
                row.server,
                fmt_mib(row.pss_peak_bytes),
                fmt_mib(row.pss_mean_bytes),
                fmt_mib(row.cgroup_peak_bytes),
                fmt_mib(row.rss_peak_bytes),
                fmt(study.memory_mb, 0) if study else DASH,
                fmt_flags(row),
            )
        )
    return Table(
        title=f"Memory, endpoint `{endpoint}` (ranking by peak PSS, lowest first)",
        columns=(
            "Rank",
            "Server",
            "PSS peak MiB",
            "PSS mean MiB",
            "cgroup peak MiB",
            "RSS sum peak MiB",
            "Study MB (RSS sum)",
            "Flags",
        ),
        rows=table_rows,
        numeric=frozenset({2, 3, 4, 5, 6}),
        caption=(
            "PSS (proportional set size) splits shared pages among the processes sharing them; "
            "the RSS sum counts a forked worker's shared pages once per worker, the study's "
            "method, shown to size that error. cgroup peak = the unit's charged memory "
            "(page cache included) at its highest."
        ),
    )


def latency_table(rows: Sequence[Row], endpoint: str) -> Table:
    return Table(
        title=f"Latency, endpoint `{endpoint}` (ms, mean over rounds; max = worst round)",
        columns=("Server", "p50", "p90", "p99", "p99 worst", "p99.9", "max", "Flags"),
        rows=[
            (
                row.server,
                fmt(row.p50_ms, 2),
                fmt(row.p90_ms, 2),
                fmt(row.p99_ms, 2),
                fmt(row.p99_ms_max, 2),
                fmt(row.p99_9_ms, 2),
                fmt(row.max_ms, 2),
                fmt_flags(row),
            )
            for row in rows
        ],
        numeric=frozenset({1, 2, 3, 4, 5, 6}),
        caption=(
            "wrk measures latency only for answered requests: a connection that never gets an "
            "answer adds nothing here, see the fairness columns."
        ),
    )


def errors_table(rows: Sequence[Row], endpoint: str) -> Table:
    table_rows = []
    for row in rows:
        answered = (
            f"{row.answered_connections_min}/{row.probe_connections}"
            if row.probe_connections is not None
            else DASH
        )
        table_rows.append(
            (
                row.server,
                f"{row.requests:,}",
                *(f"{row.errors[kind]:,}" for kind in ("connect", "read", "write", "status")),
                f"{row.errors['timeout']:,}",
                fmt_pct(row.error_rate_max),
                answered,
                fmt(row.answers_gini_max, 2),
                fmt_flags(row),
            )
        )
    return Table(
        title=f"Errors and fairness, endpoint `{endpoint}` (all rounds)",
        columns=(
            "Server",
            "requests",
            "connect",
            "read",
            "write",
            "status",
            "timeout",
            "error % (worst round)",
            "answered conns (worst)",
            "answers Gini",
            "Flags",
        ),
        rows=table_rows,
        numeric=frozenset(range(1, 10)),
        caption=(
            "status = HTTP status > 399. Answered conns = probe connections that got at least "
            "one answer; Gini 0 = answers spread evenly over connections, near 1 = a few "
            "connections got them all."
        ),
    )


def cpu_table(rows: Sequence[Row], endpoint: str) -> Table:
    return Table(
        title=f"CPU, endpoint `{endpoint}` (seconds per run, mean over rounds)",
        columns=("Server", "server CPU s", "client (wrk) CPU s", "client share"),
        rows=[
            (
                row.server,
                fmt(row.server_cpu_s, 2),
                fmt(row.client_cpu_s, 2),
                fmt_pct(row.client_cpu_share, 0),
            )
            for row in rows
        ],
        numeric=frozenset({1, 2, 3}),
        caption=(
            "client share = wrk's CPU time / (wrk's + the server's). When wrk runs on the "
            "server's cores, that share was taken from the server."
        ),
    )


def host_table(result_set: ResultSet) -> Table:
    host, versions = result_set.host, result_set.versions
    rows = [
        ("Host", host.hostname or DASH),
        ("CPU", host.cpu_model),
        ("vCPUs", str(host.vcpus)),
        ("Memory", f"{host.memory_bytes / 2**30:.1f} GiB"),
        ("Kernel", host.kernel),
        ("OS", host.os),
        *((name, value or DASH) for name, value in sorted(host.extra.items())),
        ("Python", versions.python),
        ("Django", versions.django),
        ("wrk", versions.wrk),
        *(
            (name, value or DASH)
            for name, value in sorted(versions.servers.items(), key=lambda i: server_sort_key(i[0]))
        ),
        *((name, value or DASH) for name, value in sorted(versions.packages.items())),
    ]
    return Table(title="Host and versions", columns=("Fact", "Value"), rows=rows)


def runs_table(runs: Sequence[Run]) -> Table:
    return Table(
        title="Runs",
        columns=("File", "Round", "Server", "Endpoint", "Started", "req/s", "p99 ms", "answered"),
        rows=[
            (
                run.source,
                str(run.round),
                run.server,
                run.endpoint,
                run.started_at,
                fmt(run.wrk.rps),
                fmt(
                    run.wrk.latency.p99_us / 1000 if run.wrk.latency.p99_us is not None else None,
                    2,
                ),
                fmt_pct(run.fairness.answered_fraction, 0) if run.fairness else DASH,
            )
            for run in runs
        ],
        numeric=frozenset({1, 5, 6, 7}),
    )


def endpoint_tables(rows: Sequence[Row]) -> list[tuple[str, list[Table]]]:
    """Per endpoint, the study's two rankings and the detail tables."""
    result = []
    for endpoint in endpoints(rows):
        selected = [row for row in rows if row.endpoint == endpoint]
        result.append(
            (
                endpoint,
                [
                    rps_table(selected, endpoint),
                    memory_table(selected, endpoint),
                    latency_table(selected, endpoint),
                    errors_table(selected, endpoint),
                    cpu_table(selected, endpoint),
                ],
            )
        )
    return result


def verdicts(rows: Sequence[Row]) -> list[str]:
    """One sentence per endpoint: the fastest trusted config, or why there is none."""
    lines = []
    for endpoint in endpoints(rows):
        selected = [row for row in rows if row.endpoint == endpoint]
        best = winner(selected)
        if best is None:
            lines.append(f"`{endpoint}`: no winner, every config is flagged.")
        else:
            lines.append(
                f"`{endpoint}`: fastest unflagged config is {best.server} "
                f"({best.rps_mean:,.1f} req/s, p99 {fmt(best.p99_ms, 2)} ms, "
                f"PSS peak {fmt_mib(best.pss_peak_bytes)} MiB)."
            )
    return lines


def flagged(rows: Sequence[Row]) -> list[tuple[Row, str]]:
    return [(row, reason) for row in rows for reason in row.flag_reasons]


def text_table(table: Table) -> str:
    """A fixed-width plain-text table (for the terminal)."""
    widths = [len(column) for column in table.columns]
    for row in table.rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(width) if index in table.numeric else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([table.title, line(table.columns), rule, *(line(row) for row in table.rows)])


def ranking_text(rows: Sequence[Row]) -> str:
    """The req/s ranking of every endpoint and the verdicts, for stdout."""
    blocks = [
        text_table(rps_table([r for r in rows if r.endpoint == e], e)) for e in endpoints(rows)
    ]
    return "\n\n".join([*blocks, "\n".join(verdicts(rows))])
