"""Draw a document's charts (document.ChartSpec) as PNG with matplotlib's Agg backend.

Charts are returned as bytes so that the HTML page embeds exactly what was written to disk.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display on the controller or in CI; must precede pyplot

import matplotlib.pyplot as plt
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from benchreport.document import Chart, ChartSpec, LineChartSpec

COLORS = ("#3b6ea5", "#e08a2e", "#4f9a52", "#b8474b", "#7d5ba6", "#8c6d4f")


def render_chart(spec: Chart) -> bytes:
    """A chart of either kind as PNG bytes."""
    if isinstance(spec, LineChartSpec):
        return render_line_chart(spec)
    return render_bar_chart(spec)


def png_bytes(figure: Figure) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def render_line_chart(spec: LineChartSpec) -> bytes:
    """One line per series with a point marker; marked points get a red ring; references
    are dashed horizontal lines."""
    figure, axes = plt.subplots(figsize=(7.5, 4.4), dpi=100)
    any_marked = False
    for index, line in enumerate(spec.lines):
        color = COLORS[index % len(COLORS)]
        xs = list(line.xs)
        ys = [y if y is not None else float("nan") for y in line.ys]
        axes.plot(xs, ys, marker="o", markersize=4, color=color, label=line.label)
        marked = line.marked or [False] * len(xs)
        rings = [(x, y) for x, y, mark in zip(xs, line.ys, marked, strict=True) if mark and y]
        if rings:
            any_marked = True
            axes.scatter(
                [x for x, _ in rings],
                [y for _, y in rings],
                s=90,
                facecolors="none",
                edgecolors="#c0392b",
                linewidths=1.6,
                zorder=3,
            )
    for value, label in spec.references:
        axes.axhline(value, color="#c0392b", linestyle="--", linewidth=1.2, label=label)
    if any_marked and spec.marked_label:
        axes.scatter([], [], s=90, facecolors="none", edgecolors="#c0392b", label=spec.marked_label)
    if spec.log_y:
        axes.set_yscale("log")
    else:
        axes.set_ylim(bottom=0)  # a drop must not look bigger than it is
    if spec.x_labels:
        axes.set_xticks(range(len(spec.x_labels)))
        axes.set_xticklabels(spec.x_labels, rotation=20, ha="right")
    axes.set_xlabel(spec.xlabel)
    axes.set_ylabel(spec.ylabel)
    axes.set_title(spec.title)
    axes.grid(alpha=0.3, which="both")
    axes.legend(fontsize="small", loc="best")
    return png_bytes(figure)


def render_bar_chart(spec: ChartSpec) -> bytes:
    """Grouped bars, one group per category and one bar per series; missing values leave a
    gap rather than a zero-height bar."""
    categories, series = spec.categories, spec.series
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
    axes.set_ylabel(spec.ylabel)
    axes.set_title(spec.title)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    axes.legend(handles=handles, fontsize="small", loc="upper right", ncol=min(4, len(handles)))
    return png_bytes(figure)
