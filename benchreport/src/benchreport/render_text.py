"""A Document's console blocks as plain text for the terminal (fixed-width tables)."""

from __future__ import annotations

from collections.abc import Sequence

from benchreport.document import Block, BulletList, Document, Figure, Paragraph, Table, Text

# Code spans keep their backticks: they mark endpoint and flag names in plain text too.
MARKERS = {"plain": "", "code": "`", "strong": ""}


def inline(value: Text) -> str:
    return "".join(f"{MARKERS[span.style]}{span.text}{MARKERS[span.style]}" for span in value)


def text_table(table: Table) -> str:
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
    title = [inline(table.title)] if table.title else []
    return "\n".join([*title, line(table.columns), rule, *(line(row) for row in table.rows)])


def block_text(block: Block) -> str:
    match block:
        case Paragraph():
            return inline(block.text)
        case BulletList():
            return "\n".join(f"- {inline(item)}" for item in block.items)
        case Table():
            return text_table(block)
        case Figure():
            return f"chart: {block.chart}"


def render_text(document: Document) -> str:
    return "\n\n".join(block_text(block) for block in document.console)
