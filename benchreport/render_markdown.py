"""report.md: the study's tables (req/s and memory rankings) plus latency, errors and CPU."""

from __future__ import annotations

from collections.abc import Sequence

from benchreport.aggregate import Row
from benchreport.schema import ResultSet
from benchreport.tables import (
    Table,
    endpoint_tables,
    flagged,
    host_table,
    runs_table,
    verdicts,
)

METHOD_NOTES = (
    "- **req/s** is wrk's completed requests over the run's duration; rounds are interleaved "
    "(every server, then every server again), and min – max shows their spread.",
    "- **Flags**: `starved` = the fairness probe found connections that never got an answer "
    "(wrk shows such a server as fast and error-free); `errors` = more than the allowed share "
    "of attempts failed; `unprobed` = fairness not measured. `starved` and `errors` configs "
    "are never ranked as winners.",
    "- **Memory** is PSS summed over the server's processes (shared pages divided among "
    "sharers), not summed RSS, which counts a forked worker's shared pages once per worker.",
    "- **Client CPU** is wrk's own CPU time; when wrk shares the server's cores it takes that "
    "time from the server.",
)


def escape(cell: str) -> str:
    return cell.replace("|", "\\|").replace("\n", " ")


def markdown_table(table: Table, level: int = 3) -> str:
    align = ["---:" if index in table.numeric else "---" for index in range(len(table.columns))]
    lines = [
        f"{'#' * level} {table.title}",
        "",
        "| " + " | ".join(escape(column) for column in table.columns) + " |",
        "| " + " | ".join(align) + " |",
        *("| " + " | ".join(escape(cell) for cell in row) + " |" for row in table.rows),
    ]
    if table.caption:
        lines += ["", f"_{table.caption}_"]
    return "\n".join(lines)


def settings_lines(result_set: ResultSet) -> list[str]:
    settings = sorted({run.load.describe() for run in result_set.runs})
    rounds = sorted({run.round for run in result_set.runs})
    probes = sorted(
        {
            f"{run.fairness.connections} connections, {run.fairness.phase} wrk"
            for run in result_set.runs
            if run.fairness
        }
    )
    thresholds = result_set.thresholds
    return [
        f"- Load: {'; '.join(settings)}",
        f"- Rounds: {len(rounds)} ({', '.join(map(str, rounds))}), {len(result_set.runs)} runs",
        f"- Fairness probe: {'; '.join(probes) if probes else 'not run'}",
        f"- Flag limits: answered connections < {100 * thresholds.min_answered_fraction:g}% "
        f"= starved; errors > {100 * thresholds.max_error_rate:g}% of attempts = errors",
    ]


def render_markdown(
    result_set: ResultSet, rows: Sequence[Row], chart_files: Sequence[str] = ()
) -> str:
    parts = [
        f"# Django Server Lab benchmark: {result_set.label}",
        "",
        f"Results combined {result_set.created_at}.",
        "",
        "## Verdict",
        "",
        *(f"- {line}" for line in verdicts(rows)),
        "",
        "## Settings",
        "",
        *settings_lines(result_set),
        "",
        markdown_table(host_table(result_set), level=2),
    ]
    for endpoint, tables in endpoint_tables(rows):
        parts += ["", f"## Endpoint `{endpoint}`"]
        parts += ["\n" + markdown_table(table) for table in tables]
    flagged_rows = flagged(rows)
    parts += ["", "## Flagged configs", ""]
    if flagged_rows:
        parts += [
            f"- **{row.server}** / `{row.endpoint}`: {reason}" for row, reason in flagged_rows
        ]
    else:
        parts.append("None.")
    notes = sorted({(row.server, note) for row in rows for note in row.notes})
    if notes:
        parts += ["", "## Sampler notes", "", *(f"- {server}: {note}" for server, note in notes)]
    if chart_files:
        parts += ["", "## Charts", ""]
        parts += [f"![{name}]({name})" for name in chart_files]
    parts += ["", "## How to read this", "", *METHOD_NOTES]
    parts += ["", markdown_table(runs_table(result_set.runs), level=2), ""]
    return "\n".join(parts)
