"""The installed package: its command line, its template, and renderers that only read the
report model (no renderer imports another)."""

from __future__ import annotations

import ast
import importlib.resources
import subprocess
import sys
from pathlib import Path

import benchreport

RENDERERS = {"render_markdown", "render_html", "render_csv", "render_text", "charts"}


def imported_modules(module: str) -> set[str]:
    source = importlib.resources.files(benchreport).joinpath(f"{module}.py").read_text()
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_renderer_imports_another() -> None:
    for renderer in RENDERERS:
        siblings = {f"benchreport.{other}" for other in RENDERERS - {renderer}}
        assert not imported_modules(renderer) & siblings, renderer


def test_page_template_is_package_data() -> None:
    template = importlib.resources.files(benchreport) / "templates" / "page.html.j2"
    assert "<!DOCTYPE html>" in template.read_text()


def test_python_m_benchreport_from_anywhere(results_a: Path, tmp_path: Path) -> None:
    """The command line runs from the installed package, whatever the working directory."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for command in (["combine", str(results_a)], ["render", str(results_a)]):
        completed = subprocess.run(
            [sys.executable, "-m", "benchreport", *command],
            cwd=elsewhere,
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
    assert (results_a / "report.html").exists()
