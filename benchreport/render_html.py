"""report.html: one self-contained page (inline CSS, charts as data: URIs, no external asset)."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence

from benchreport.aggregate import DISQUALIFYING_FLAGS, Row
from benchreport.render_markdown import METHOD_NOTES, settings_lines
from benchreport.schema import ResultSet
from benchreport.tables import Table, endpoint_tables, flagged, host_table, runs_table, verdicts

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: .6rem 0 .3rem; font-size: 13px; }
th, td { border: 1px solid #d0d0d0; padding: .25rem .5rem; text-align: left; }
th { background: #f2f2f2; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.flagged td { background: #fff3f0; color: #7a2a1a; }
caption { caption-side: bottom; text-align: left; font-size: 12px; color: #555;
          padding-top: .3rem; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #e0e0e0; }
code { background: #f4f4f4; padding: 0 .2rem; }
"""


def inline_code(text: str) -> str:
    """Escape, then turn Markdown `code` spans (used in titles and verdicts) into <code>."""
    parts = html.escape(text).split("`")
    return "".join(
        f"<code>{part}</code>" if index % 2 else part for index, part in enumerate(parts)
    )


def html_table(table: Table, level: int = 3) -> str:
    flags_index = table.columns.index("Flags") if "Flags" in table.columns else None
    head = "".join(f"<th>{html.escape(column)}</th>" for column in table.columns)
    body = []
    for row in table.rows:
        is_flagged = flags_index is not None and bool(
            DISQUALIFYING_FLAGS.intersection(row[flags_index].split(", "))
        )
        cells = "".join(
            f'<td class="num">{html.escape(cell)}</td>'
            if index in table.numeric
            else f"<td>{html.escape(cell)}</td>"
            for index, cell in enumerate(row)
        )
        body.append(f'<tr class="flagged">{cells}</tr>' if is_flagged else f"<tr>{cells}</tr>")
    caption = f"<caption>{html.escape(table.caption)}</caption>" if table.caption else ""
    return (
        f"<h{level}>{inline_code(table.title)}</h{level}>\n<table>{caption}"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(
    result_set: ResultSet, rows: Sequence[Row], charts: Sequence[tuple[str, bytes]]
) -> str:
    title = f"Django Server Lab benchmark: {result_set.label}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Results combined {html.escape(result_set.created_at)}.</p>",
        "<h2>Verdict</h2><ul>",
        *(f"<li>{inline_code(line)}</li>" for line in verdicts(rows)),
        "</ul><h2>Settings</h2><ul>",
        *(
            f"<li>{html.escape(line.removeprefix('- '))}</li>"
            for line in settings_lines(result_set)
        ),
        "</ul>",
        html_table(host_table(result_set), level=2),
    ]
    if charts:
        parts.append("<h2>Charts</h2>")
        parts += [
            f'<figure><img alt="{html.escape(name)}" src="{data_uri(png)}"></figure>'
            for name, png in charts
        ]
    for endpoint, tables in endpoint_tables(rows):
        parts.append(f"<h2>Endpoint <code>{html.escape(endpoint)}</code></h2>")
        parts += [html_table(table) for table in tables]
    parts.append("<h2>Flagged configs</h2>")
    flagged_rows = flagged(rows)
    if flagged_rows:
        parts.append("<ul>")
        parts += [
            f"<li><b>{html.escape(row.server)}</b> / <code>{html.escape(row.endpoint)}</code>: "
            f"{html.escape(reason)}</li>"
            for row, reason in flagged_rows
        ]
        parts.append("</ul>")
    else:
        parts.append("<p>None.</p>")
    parts.append("<h2>How to read this</h2><ul>")
    for note in METHOD_NOTES:  # Markdown bullets: drop the bullet and the bold marks
        parts.append(f"<li>{inline_code(note.removeprefix('- ').replace('**', ''))}</li>")
    parts.append("</ul>")
    parts.append(html_table(runs_table(result_set.runs), level=2))
    parts.append("</body></html>\n")
    return "\n".join(parts)
