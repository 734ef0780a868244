"""A Dataset as CSV: one header line, then one line per row; an empty cell is "not measured"."""

from __future__ import annotations

import csv
import io
import math

from benchreport.document import Cell, Dataset


def cell_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # Three decimals are more than the measurements' precision; no trailing zeros.
        return f"{value:.3f}".rstrip("0").rstrip(".") if math.isfinite(value) else ""
    return str(value)


def render_csv(dataset: Dataset) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(dataset.columns)
    writer.writerows([cell_text(value) for value in row] for row in dataset.rows)
    return buffer.getvalue()
