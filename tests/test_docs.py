"""Docs that cannot drift: every table that states a default is written from the code, and a
hand-written one is refused."""

from __future__ import annotations

from pathlib import Path

from conftest import REPO_ROOT, copy_repository, derive


def test_the_derived_parts_are_fresh() -> None:
    result = derive(REPO_ROOT, "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_hand_written_table_of_defaults_is_refused(tmp_path: Path) -> None:
    copy_repository(tmp_path)
    doc = tmp_path / "docs" / "architecture.md"
    lines = doc.read_text().splitlines()
    table = ["", "| Setting | Default |", "| --- | ---: |", "| workers | 4 |"]
    doc.write_text("\n".join([*lines, *table]) + "\n")
    result = derive(tmp_path, "--check")
    assert result.returncode == 1
    assert f"docs/architecture.md:{len(lines) + 2}" in result.stdout, result.stdout
