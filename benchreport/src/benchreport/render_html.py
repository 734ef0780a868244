"""A Document as one self-contained HTML page (report.html, compare.html), from the Jinja2
template templates/page.html.j2 shipped with the package."""

from __future__ import annotations

import base64
from collections.abc import Mapping

import jinja2

from benchreport.document import Document

TEMPLATE = "page.html.j2"

_environment = jinja2.Environment(
    loader=jinja2.PackageLoader("benchreport", "templates"),
    autoescape=True,  # every value is text from the results, never markup
    undefined=jinja2.StrictUndefined,  # a misspelt field fails loudly instead of vanishing
    keep_trailing_newline=True,
    trim_blocks=True,  # with lstrip_blocks: a line holding only a tag leaves nothing behind
    lstrip_blocks=True,
)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(document: Document, charts: Mapping[str, bytes]) -> str:
    """The page; ``charts`` maps each ChartSpec.path to its PNG, embedded as a data: URI."""
    images = {path: data_uri(png) for path, png in charts.items()}
    return _environment.get_template(TEMPLATE).render(document=document, images=images)
