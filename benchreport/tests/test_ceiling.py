"""``python -m benchreport ceiling`` against the real app (app/, SQLite, no Redis needed for the
endpoints measured here): in-process, no server and no client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[2] / "app"


@pytest.fixture(scope="module")
def app_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The app's environment with a migrated, seeded SQLite database of its own."""
    database = tmp_path_factory.mktemp("ceiling") / "db.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "ceiling-test-only",
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DSL_APP_PROFILE": "lean",
    }
    for command in (["migrate", "--noinput"], ["seed_movies"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=APP_DIR,
            env=env,
            check=True,
            capture_output=True,
        )
    return env


def run_ceiling(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchreport", "ceiling", *args],
        cwd=APP_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_measures_each_endpoint(app_env: dict[str, str], tmp_path: Path) -> None:
    output = tmp_path / "ceiling.json"
    result = run_ceiling(
        app_env,
        "--endpoint=health=/api/health",
        "--endpoint=movies=/api/demo/movies?limit=20",
        "--seconds=0.3",
        f"--output={output}",
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(output.read_text())
    assert document["format"] == "ceiling/1"
    assert document["app_profile"] == "lean"
    assert set(document["endpoints"]) == {"health", "movies"}
    for figures in document["endpoints"].values():
        assert figures["requests"] >= 100
        assert figures["cpu_s"] >= 0.3
        # The cost per request and the rate per core are the same measurement, both ways round.
        assert figures["rps_per_core"] == pytest.approx(
            1e6 / figures["cpu_us_per_request"], rel=0.01
        )
    # A page of 20 rows from the database costs more than the health answer.
    endpoints = document["endpoints"]
    assert endpoints["movies"]["cpu_us_per_request"] > endpoints["health"]["cpu_us_per_request"]
    assert "health:" in result.stderr


def test_refuses_an_endpoint_that_does_not_answer_200(app_env: dict[str, str]) -> None:
    result = run_ceiling(app_env, "--endpoint=missing=/no/such/page", "--seconds=0.1")
    assert result.returncode == 2
    assert "/no/such/page answered '404" in result.stderr


@pytest.mark.parametrize(
    ("argument", "named"),
    [("--endpoint=health", "'health'"), ("--seconds=0", "'0'"), ("--seconds=-1", "'-1'")],
)
def test_bad_arguments_name_the_value(app_env: dict[str, str], argument: str, named: str) -> None:
    arguments = (
        [argument] if argument.startswith("--endpoint") else ["--endpoint=h=/api/health", argument]
    )
    result = run_ceiling(app_env, *arguments)
    assert result.returncode == 2
    assert named in result.stderr


def test_names_the_profile_the_app_runs(app_env: dict[str, str]) -> None:
    """The profile comes from the app's settings (what it runs), not from the raw variable."""
    result = run_ceiling(
        {**app_env, "DSL_APP_PROFILE": " Study "}, "--endpoint=health=/api/health", "--seconds=0.1"
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["app_profile"] == "study"
