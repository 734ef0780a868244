"""scripts/test_summary.py on JUnit XML that pytest wrote for real: a failing, an erroring and a
passing test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO_ROOT

SUMMARY = REPO_ROOT / "scripts" / "test_summary.py"
TESTS = """
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")

def test_passes():
    assert True

def test_fails():
    assert 1 == 2, "one is not two"

def test_errors(broken):
    pass
"""


def test_prints_each_failure_and_error_and_fails(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(TESTS)
    report = tmp_path / "junit-switch.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}"],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    done = subprocess.run(
        [sys.executable, str(SUMMARY), str(report), str(tmp_path / "junit-missing.xml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("switch: failure test_sample::test_fails: ")
    assert "one is not two" in lines[0]
    assert lines[1].startswith("switch: error test_sample::test_errors: ")
    assert "fixture broke" in lines[1]


def test_is_quiet_and_passes_without_failures(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SUMMARY), str(tmp_path / "junit-none.xml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "")
