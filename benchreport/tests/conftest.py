"""Shared fixtures. Run `pytest benchreport/tests` from the repository root or `pytest` in
benchreport/, with the package installed (pip install -e benchreport). pytest.ini makes
benchreport/ the rootdir, and pytest puts it on sys.path for the `tests` package."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import pytest

from benchreport.schema import Thresholds
from benchreport.store import combine
from tests.support.servers import RunningServer, running_server

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        pytest.skip("wrk is not installed (apt-get install -y wrk)")
    return path


def server_fixture(mode: str, scope: Literal["function", "module"]) -> Callable[[], object]:
    """A fixture yielding a running test server of httpserver.py's ``mode``."""

    @pytest.fixture(scope=scope, name=f"{mode}_server")
    def fixture() -> Iterator[RunningServer]:
        with running_server(mode) as server:
            yield server

    return fixture


fair_server = server_fixture("fair", "module")
errors_server = server_fixture("errors", "module")
close_server = server_fixture("close", "module")
slow_server = server_fixture("slow", "module")
# Function scope: a starving server's queue must not leak from one test into the next.
starving_server = server_fixture("starving", "function")


@pytest.fixture
def results_a(tmp_path: Path) -> Path:
    """A writable copy of the captured fixture set A (2 rounds, 4 servers, 2 endpoints)."""
    return Path(shutil.copytree(FIXTURES_DIR / "results-a", tmp_path / "20250101T000000Z"))


@pytest.fixture
def results_b(tmp_path: Path) -> Path:
    """A writable copy of the captured fixture set B (1 round, another load setting)."""
    return Path(shutil.copytree(FIXTURES_DIR / "results-b", tmp_path / "20250102T000000Z"))


@pytest.fixture
def results_with_history(tmp_path: Path) -> Path:
    """Set A combined, with set B combined beside it as an earlier sweep (for the trend)."""
    earlier = Path(shutil.copytree(FIXTURES_DIR / "results-b", tmp_path / "20241215T000000Z"))
    current = Path(shutil.copytree(FIXTURES_DIR / "results-a", tmp_path / "20250101T000000Z"))
    for folder in (earlier, current):
        combine(folder, Thresholds(), created_at="2025-01-01T00:00:00Z")
    return current
