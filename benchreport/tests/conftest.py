"""Shared fixtures. Run from the repository root: python -m pytest benchreport/tests"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # make `benchreport` importable without installing it
    sys.path.insert(0, str(REPO_ROOT))

from benchreport.tests.support.servers import RunningServer, running_server  # noqa: E402

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        pytest.skip("wrk is not installed (apt-get install -y wrk)")
    return path


@pytest.fixture(scope="module")
def fair_server() -> Iterator[RunningServer]:
    with running_server("fair") as server:
        yield server


@pytest.fixture
def starving_server() -> Iterator[RunningServer]:
    # Function scope: a starving server's queue must not leak from one test into the next.
    with running_server("starving") as server:
        yield server


@pytest.fixture(scope="module")
def errors_server() -> Iterator[RunningServer]:
    with running_server("errors") as server:
        yield server


@pytest.fixture(scope="module")
def close_server() -> Iterator[RunningServer]:
    with running_server("close") as server:
        yield server


@pytest.fixture
def results_a(tmp_path: Path) -> Path:
    """A writable copy of the captured fixture set A (2 rounds, 4 servers, 2 endpoints)."""
    return Path(shutil.copytree(FIXTURES_DIR / "results-a", tmp_path / "20250101T000000Z"))


@pytest.fixture
def results_b(tmp_path: Path) -> Path:
    """A writable copy of the captured fixture set B (1 round, another load setting)."""
    return Path(shutil.copytree(FIXTURES_DIR / "results-b", tmp_path / "20250102T000000Z"))
