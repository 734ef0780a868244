"""PNG charts (matplotlib, Agg backend): req/s with the round-to-round spread, p99, PSS.

Charts are returned as bytes so the HTML page can embed exactly what was written to disk.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no display on the controller or in CI; must precede pyplot

import matplotlib.pyplot as plt
from matplotlib.artist import Artist
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from benchreport.aggregate import Row, endpoints
from benchreport.study import server_sort_key

MIB = 2**20
COLORS = ("#3b6ea5", "#e08a2e", "#4f9a52", "#b8474b", "#7d5ba6", "#8c6d4f")


@dataclass(frozen=True)
class Series:
    """One bar per category; low/high give an error bar; flagged bars are hatched."""

    label: str
    values: Sequence[float | None]
    lows: Sequence[float | None] | None = None
    highs: Sequence[float | None] | None = None
    flagged: Sequence[bool] | None = None
    markers: Sequence[float | None] | None = None  # e.g. the RSS sum drawn as a cross
    marker_label: str = ""


def bar_chart(
    categories: Sequence[str], series: Sequence[Series], title: str, ylabel: str
) -> bytes:
    """Grouped bars, one group per category and one bar per series; missing values leave a
    gap rather than a zero-height bar."""
    width = 0.8 / max(1, len(series))
    figure, axes = plt.subplots(figsize=(max(6.0, 1.2 * len(categories) + 2), 4.4), dpi=100)
    handles: list[Artist] = []
    any_flagged = False
    marker_labels_used: set[str] = set()
    tallest = 0.0
    for index, item in enumerate(series):
        color = COLORS[index % len(COLORS)]
        handles.append(Patch(facecolor=color, label=item.label))
        flagged = item.flagged or [False] * len(item.values)
        for position, value in enumerate(item.values):
            if value is None:
                continue
            offset = position - 0.4 + width * (index + 0.5)
            is_flagged = flagged[position]
            any_flagged = any_flagged or is_flagged
            axes.bar(
                offset,
                value,
                width * 0.92,
                color=color,
                hatch="///" if is_flagged else None,
                alpha=0.45 if is_flagged else 1.0,
            )
            low = item.lows[position] if item.lows is not None else None
            high = item.highs[position] if item.highs is not None else None
            if low is not None and high is not None:
                axes.errorbar(
                    offset,
                    value,
                    yerr=[[max(0.0, value - low)], [max(0.0, high - value)]],
                    fmt="none",
                    ecolor="#222",
                    capsize=3,
                )
            marker = item.markers[position] if item.markers is not None else None
            if marker is not None:
                axes.scatter(offset, marker, marker="x", color="#222", zorder=3)
                if item.marker_label and item.marker_label not in marker_labels_used:
                    marker_labels_used.add(item.marker_label)
                    handles.append(
                        Line2D(
                            [], [], marker="x", color="#222", linestyle="", label=item.marker_label
                        )
                    )
            tallest = max(tallest, value, high or 0.0, marker or 0.0)
    if any_flagged:
        handles.append(
            Patch(facecolor="#bbbbbb", hatch="///", alpha=0.6, label="flagged, not ranked")
        )
    axes.set_xticks(range(len(categories)))
    rotate = len(categories) > 6
    axes.set_xticklabels(
        categories, rotation=20 if rotate else 0, ha="right" if rotate else "center"
    )
    axes.set_xlim(-0.6, len(categories) - 0.4)
    axes.set_ylim(0, (tallest or 1.0) * 1.3)  # head room for the legend
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    axes.legend(handles=handles, fontsize="small", loc="upper right", ncol=min(4, len(handles)))
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def _servers(rows: Sequence[Row]) -> list[str]:
    return sorted({row.server for row in rows}, key=server_sort_key)


def _by_endpoint(rows: Sequence[Row]) -> list[tuple[str, list[Row | None]]]:
    """For each endpoint, its row for every server (None when that pair was not run)."""
    servers = _servers(rows)
    table = {(row.server, row.endpoint): row for row in rows}
    return [
        (endpoint, [table.get((server, endpoint)) for server in servers])
        for endpoint in endpoints(rows)
    ]


def _series(
    rows: Sequence[Row],
    value: str,
    *,
    low: str | None = None,
    high: str | None = None,
    scale: float = 1.0,
    marker: str | None = None,
    marker_label: str = "",
) -> list[Series]:
    def pick(selected: list[Row | None], name: str | None) -> list[float | None]:
        result: list[float | None] = []
        for row in selected:
            raw = getattr(row, name) if row is not None and name else None
            result.append(raw / scale if raw is not None else None)
        return result

    return [
        Series(
            label=endpoint,
            values=pick(selected, value),
            lows=pick(selected, low) if low else None,
            highs=pick(selected, high) if high else None,
            flagged=[row is not None and not row.ranked for row in selected],
            markers=pick(selected, marker) if marker else None,
            marker_label=marker_label,
        )
        for endpoint, selected in _by_endpoint(rows)
    ]


def render_charts(rows: Sequence[Row]) -> list[tuple[str, bytes]]:
    """(file name, PNG bytes) for the report's three charts."""
    servers = _servers(rows)
    return [
        (
            "rps.png",
            bar_chart(
                servers,
                _series(rows, "rps_mean", low="rps_min", high="rps_max"),
                "Requests per second (mean of rounds; whiskers: min–max)",
                "req/s",
            ),
        ),
        (
            "p99.png",
            bar_chart(
                servers,
                _series(rows, "p99_ms", high="p99_ms_max", low="p99_ms"),
                "p99 latency (mean of rounds; whisker: worst round)",
                "ms",
            ),
        ),
        (
            "pss.png",
            bar_chart(
                servers,
                _series(
                    rows,
                    "pss_peak_bytes",
                    scale=MIB,
                    marker="rss_peak_bytes",
                    marker_label="RSS sum (the study's method)",
                ),
                "Server memory: peak PSS (x = summed RSS)",
                "MiB",
            ),
        ),
    ]
