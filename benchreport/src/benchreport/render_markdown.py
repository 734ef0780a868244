"""A Document as Markdown (report.md, compare.md)."""

from __future__ import annotations

from benchreport.document import Block, BulletList, Document, Figure, Paragraph, Table, Text

MARKERS = {"plain": "", "code": "`", "strong": "**"}


def inline(value: Text) -> str:
    return "".join(f"{MARKERS[span.style]}{span.text}{MARKERS[span.style]}" for span in value)


def escape_cell(cell: str) -> str:
    return cell.replace("|", "\\|").replace("\n", " ")


def table_lines(table: Table) -> list[str]:
    align = ["---:" if index in table.numeric else "---" for index in range(len(table.columns))]
    lines = [f"### {inline(table.title)}", ""] if table.title else []
    lines += [
        "| " + " | ".join(escape_cell(column) for column in table.columns) + " |",
        "| " + " | ".join(align) + " |",
        *("| " + " | ".join(escape_cell(cell) for cell in row) + " |" for row in table.rows),
    ]
    if table.caption:
        lines += ["", f"_{table.caption}_"]
    return lines


def block_lines(block: Block) -> list[str]:
    match block:
        case Paragraph():
            return [inline(block.text)]
        case BulletList():
            return [f"- {inline(item)}" for item in block.items]
        case Table():
            return table_lines(block)
        case Figure():
            return [f"![{block.chart}]({block.chart})"]


def blocks_text(blocks: tuple[Block, ...]) -> list[str]:
    """Blocks separated by blank lines."""
    lines: list[str] = []
    for block in blocks:
        lines += ["", *block_lines(block)]
    return lines


def render_markdown(document: Document) -> str:
    lines = [f"# {document.title}", *blocks_text(document.intro)]
    for section in document.sections:
        lines += ["", f"## {inline(section.heading)}", *blocks_text(section.blocks)]
    return "\n".join(lines) + "\n"
