"""The audit's summary (scripts/lynis_summary.py) reads what Lynis writes.

tests/data/lynis/ holds lines cut from a real run (Lynis 3.0.8, `make audit` on a lab container
after site.yml): the report's keys, its only warning, three suggestions, and the log of two
tests' hardening points. Lynis itself is not on the controller, so the run cannot happen here.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from conftest import REPO_ROOT

DATA = Path(__file__).parent / "data" / "lynis"


def load_script() -> ModuleType:
    path = REPO_ROOT / "scripts" / "lynis_summary.py"
    spec = importlib.util.spec_from_file_location("lynis_summary", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


lynis_summary = load_script()


def test_the_report_gives_the_index_tests_and_findings() -> None:
    summary = lynis_summary.parse_report((DATA / "report.dat").read_text())
    assert summary.hostname == "audit1"
    assert summary.lynis_version == "3.0.8"
    assert summary.hardening_index == 60
    assert summary.tests_performed == 237
    assert summary.tests_skipped == 5
    assert [finding.test_id for finding in summary.warnings] == ["PKGS-7388"]
    assert [finding.test_id for finding in summary.suggestions] == [
        "KRNL-5820",
        "AUTH-9328",
        "FILE-7524",
    ]
    # Lynis' "-" for an empty field reads as empty; a real one is kept.
    assert summary.warnings[0].details == ""
    assert summary.suggestions[2].details == "See screen output or log file"


def test_the_log_gives_the_points_each_test_lost() -> None:
    summary = lynis_summary.parse_report(
        (DATA / "report.dat").read_text(), (DATA / "lynis.log").read_text()
    )
    lost = {test.test_id: (test.lost, test.maximum) for test in summary.lost_points()}
    # KRNL-5820: 0 of 1, 0 of 1, 1 of 3, 1 of 1; AUTH-9328: 0 of 2; KRNL-5830 earns none.
    assert lost == {"KRNL-5820": (4, 6), "AUTH-9328": (2, 2)}
    assert (summary.points_earned, summary.points_maximum) == (2, 8)
    assert summary.points_short_of(75) == 4


def test_the_command_writes_json_and_markdown(tmp_path: Path) -> None:
    json_path, markdown_path = tmp_path / "audit1.json", tmp_path / "audit1.md"
    status = lynis_summary.main(
        [
            str(DATA / "report.dat"),
            "--log",
            str(DATA / "lynis.log"),
            "--json",
            str(json_path),
            "--markdown",
            str(markdown_path),
        ]
    )
    assert status == 0
    data = json.loads(json_path.read_text())
    assert data["hardening_index"] == 60
    assert data["warnings"][0]["test_id"] == "PKGS-7388"
    assert [test["test_id"] for test in data["points_lost"]] == ["KRNL-5820", "AUTH-9328"]
    markdown = markdown_path.read_text()
    assert "Hardening index: **60**" in markdown
    assert "| PKGS-7388 |" in markdown


def test_an_unfinished_report_is_refused(tmp_path: Path) -> None:
    report = tmp_path / "report.dat"
    report.write_text("# Lynis Report\nhostname=audit1\nlynis_version=3.0.8\n")
    with pytest.raises(ValueError, match="hardening_index"):
        lynis_summary.parse_report(report.read_text())
    assert lynis_summary.main([str(report)]) == 1


def test_a_finding_without_a_test_id_is_refused() -> None:
    with pytest.raises(ValueError, match="test ID"):
        lynis_summary.Finding.parse("-|text|-|-|")
