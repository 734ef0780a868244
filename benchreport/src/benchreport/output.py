"""Write a Document's files: <stem>.md, <stem>.html, its CSV datasets and its charts.

The one place that calls every renderer; the renderers themselves know only the Document.
"""

from __future__ import annotations

from pathlib import Path

from benchreport.charts import render_chart
from benchreport.document import Document
from benchreport.render_csv import render_csv
from benchreport.render_html import render_html
from benchreport.render_markdown import render_markdown


def write_document(document: Document, output_dir: Path) -> list[Path]:
    """Write every output of the document into ``output_dir``; return the paths written."""
    charts = {spec.path: render_chart(spec) for spec in document.charts}
    outputs: dict[Path, str | bytes] = {
        **{output_dir / path: png for path, png in charts.items()},
        output_dir / f"{document.file_stem}.md": render_markdown(document),
        **{output_dir / data.file_name: render_csv(data) for data in document.datasets},
        output_dir / f"{document.file_stem}.html": render_html(document, charts),
    }
    for path, content in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return list(outputs)
