"""The format-neutral document that every output is rendered from.

A report and a comparison are both a Document, built once from the result sets; the Markdown,
HTML, CSV, chart and terminal renderers each read it and none knows another (pyperf's pattern:
one model owns the data, every output reads it). Nothing here holds a format's syntax: inline
styles are spans, tables are cells, charts are data, CSV files are raw values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal

SpanStyle = Literal["plain", "code", "strong"]


@dataclass(frozen=True)
class Span:
    text: str
    style: SpanStyle = "plain"


# A run of inline text, e.g. (Span("endpoint "), Span("ping", "code")).
Text = tuple[Span, ...]


def text(*parts: str | Span) -> Text:
    """Inline text from plain strings and styled spans."""
    return tuple(part if isinstance(part, Span) else Span(part) for part in parts)


def code(value: str) -> Span:
    return Span(value, "code")


def strong(value: str) -> Span:
    return Span(value, "strong")


# Every block carries its `kind` so that a template can tell them apart.


@dataclass(frozen=True)
class Paragraph:
    kind: ClassVar[str] = "paragraph"
    text: Text


@dataclass(frozen=True)
class BulletList:
    kind: ClassVar[str] = "bullets"
    items: tuple[Text, ...]


@dataclass(frozen=True)
class Table:
    """A table of display strings; `title`, when not empty, is shown as its own heading."""

    kind: ClassVar[str] = "table"
    title: Text
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = field(default_factory=frozenset)  # right-aligned column indexes
    caption: str = ""
    # Rows of configs that are flagged and not ranked, shown apart where the format can.
    highlighted: frozenset[int] = field(default_factory=frozenset)


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


@dataclass(frozen=True)
class ChartSpec:
    """A grouped bar chart: one group per category, one bar per series."""

    path: str  # where it is written, relative to the output directory, e.g. charts/rps.png
    title: str
    ylabel: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]


@dataclass(frozen=True)
class Line:
    """One line of a line chart; a None y leaves a gap; marked points are drawn apart (e.g. a
    rate that was not held)."""

    label: str
    xs: Sequence[float]
    ys: Sequence[float | None]
    marked: Sequence[bool] | None = None


@dataclass(frozen=True)
class LineChartSpec:
    """Lines over a numeric x axis, or over categories when ``x_labels`` names the points
    0, 1, 2...; ``references`` are horizontal lines (value, label), e.g. an objective."""

    path: str
    title: str
    xlabel: str
    ylabel: str
    lines: tuple[Line, ...]
    log_y: bool = False
    x_labels: tuple[str, ...] = ()
    references: tuple[tuple[float, str], ...] = ()
    marked_label: str = ""


Chart = ChartSpec | LineChartSpec


@dataclass(frozen=True)
class Figure:
    kind: ClassVar[str] = "figure"
    chart: str  # the path of one of the document's charts


Block = Paragraph | BulletList | Table | Figure

Cell = str | int | float | None


@dataclass(frozen=True)
class Dataset:
    """Raw values for a CSV file: units in the column names, None for "not measured"."""

    file_name: str  # e.g. report.csv
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Section:
    heading: Text
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    """Everything one output set shows: `<file_stem>.md`, `<file_stem>.html`, the datasets'
    CSV files and the charts; `console` is what the command prints."""

    file_stem: str
    title: str
    intro: tuple[Block, ...]
    sections: tuple[Section, ...]
    charts: tuple[Chart, ...] = ()
    datasets: tuple[Dataset, ...] = ()
    console: tuple[Block, ...] = ()
