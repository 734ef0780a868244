"""Benchmark 2.0 in the report: capacity at SLO first, spread and ranking, ceiling share,
the app profile and the study, the trend over earlier sweeps, where the time went."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from benchreport.__main__ import main
from benchreport.store import load_results

STUDY_SWEEP = {
    "command": "ansible-playbook playbooks/benchmark.yml -e app_profile=study",
    "project_commit": "0123abc",
    "app_profile": "study",
    "benchmark_slo_ms": 100,
    "benchmark_rate_fractions": [0.2, 0.4, 0.6],
    "benchmark_knee_fractions": [0.5, 0.75, 0.9],
    "benchmark_rates": [],
    "benchmark_rate_descent": 3,
}


def render(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    assert main(["render", str(folder)]) == 0
    return (folder / "report.md").read_text(), capsys.readouterr().out


def section(markdown: str, heading: str) -> str:
    return markdown.split(f"\n## {heading}\n")[1].split("\n## ", maxsplit=1)[0]


def test_results_json_carries_the_new_files(results_a: Path) -> None:
    assert main(["combine", str(results_a)]) == 0
    document = json.loads((results_a / "results.json").read_text())
    assert [item["file"] for item in document["rates"]] == [
        "rates/r1-granian-ping.json",
        "rates/r1-gunicorn-db.json",
        "rates/r1-gunicorn-ping.json",
        "rates/r1-uwsgi-ping.json",
    ]
    capacity = {(item["config"]["name"], item["endpoint"]): item for item in document["capacity"]}
    assert capacity["gunicorn", "ping"]["capacity_rps"] == 12000
    assert capacity["uwsgi", "ping"]["capacity_rps"] is None
    assert capacity["gunicorn", "db"]["all_held"] is True
    assert document["ceiling"]["endpoints"]["ping"]["cpu_us_per_request"] == 12.0
    assert document["timing"]["total_s"] == 840.0
    result_set = load_results(results_a)
    assert len(result_set.rates) == 4
    assert result_set.ceiling is not None
    assert result_set.timing is not None
    assert result_set.timing.phases[0].name == "deploy"


def test_report_leads_with_capacity_and_shows_every_part(
    results_with_history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    markdown, stdout = render(results_with_history, capsys)
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert headings[:8] == [
        "## Capacity at SLO",
        "## Verdict",
        "## Spread and ranking",
        "## Ceiling share",
        "## App profile and the study",
        "## Trend",
        "## Where the time went",
        "## Settings",
    ]
    capacity = section(markdown, "Capacity at SLO")
    assert "| Server | db req/s | ping req/s |" in capacity
    assert "| uwsgi | n/a | < lowest rate |" in capacity
    assert "| gunicorn | 12,000+ | 12,000 |" in capacity
    assert "| uvicorn | n/a | n/a |" in capacity
    assert "![charts/rates-ping.png](charts/rates-ping.png)" in capacity
    spread = section(markdown, "Spread and ranking")
    assert "| not ranked | uwsgi | 22,675.9 |" in spread
    assert "spread > 10%" in spread
    ceiling = section(markdown, "Ceiling share")
    assert "| gunicorn | ping | 12.0 | 31.7 | 38% |" in ceiling
    timing = section(markdown, "Where the time went")
    assert "| closed-loop runs | 300 | 36% |" in timing
    assert "| total | 840 | 100% |" in timing
    trend = section(markdown, "Trend")
    assert "| Server | 20241215T000000Z | 20250101T000000Z | Δ last |" in trend
    assert "| gunicorn | 26,096.4 | 18,692.9 | -28.4% |" in trend
    assert (results_with_history / "charts" / "trend.png").stat().st_size > 0
    assert "not comparable to the study's table" in section(markdown, "App profile and the study")
    # The console leads with capacity too, and says what app was measured.
    assert stdout.startswith("Capacity at SLO: highest offered rate held with p99 <= 100 ms")
    assert "gunicorn   12,000+         12,000" in stdout
    assert "- `ping`: most traffic held with p99 <= 100 ms: gunicorn (12,000 req/s offered)." in (
        stdout
    )
    assert "- `db`: most traffic held with p99 <= 100 ms: gunicorn (12,000+ req/s offered)." in (
        section(markdown, "Verdict")
    )
    assert "not comparable to the study's table" in stdout
    rates_rows = list(csv.DictReader(io.StringIO((results_with_history / "rates.csv").read_text())))
    assert len(rates_rows) == 13
    assert {row["held"] for row in rates_rows} == {"yes", "no"}


def test_the_study_profile_puts_the_studys_table_beside_ours(
    results_a: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (results_a / "sweep.json").write_text(json.dumps(STUDY_SWEEP))
    assert main(["combine", str(results_a)]) == 0
    markdown, stdout = render(results_a, capsys)
    study = section(markdown, "App profile and the study")
    assert "App profile: `study`" in study
    # No health endpoint in the fixture: the endpoint most configs ran stands in for it.
    assert "### The study's table beside ours, endpoint `ping`" in study
    assert "| Gunicorn | 740 | 18,692.9 | 430 |" in study
    assert "| Daphne | 190 | not run | 175 | not run | not run | not run |" in study
    assert study.count("| starved |") == 1  # our uwsgi: its req/s is not to be trusted
    assert "The study's table beside ours, endpoint `ping`" in stdout
    # The fixture's ceiling measured the lean app: its shares do not fit a study sweep.
    assert "WARNING: the ceiling measured the lean app but the sweep ran the study app" in (
        section(markdown, "Ceiling share")
    )
    assert "Gunicorn  " in stdout
    page = (results_a / "report.html").read_text()
    assert "The study&#39;s table beside ours" in page
    assert "Fixed-rate runs: SLO p99 &lt;= 100 ms" in page
    assert "halvings of the lowest rate when none is held: 3" in page


def test_an_old_folder_still_renders(results_b: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["combine", str(results_b)]) == 0
    markdown, stdout = render(results_b, capsys)
    assert "No fixed-rate runs (`rates/*.json`) in this sweep" in markdown
    assert "## Ceiling share" not in markdown
    assert "## Where the time went" not in markdown
    assert "**One round**: min = max = median, so the ranking has no spread to judge" in markdown
    assert "No earlier sweep with a results.json beside this one" in markdown
    assert "No fixed-rate runs" in stdout
    assert not (results_b / "rates.csv").exists()


def test_an_unreadable_earlier_sweep_is_left_out_and_said(
    results_with_history: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = results_with_history.parent / "20241101T000000Z"
    broken.mkdir()
    (broken / "results.json").write_text('{"schema_version": 1, "kind": "results"}')
    later = results_with_history.parent / "20260101T000000Z"  # after this sweep: not a trend
    later.mkdir()
    (later / "results.json").write_text("{}")
    markdown, _ = render(results_with_history, capsys)
    trend = section(markdown, "Trend")
    assert "left out of the trend: " in trend
    assert "unsupported schema version 1" in trend
    assert "20260101T000000Z" not in trend


def test_a_rates_file_whose_rates_were_all_beyond_the_client(
    results_a: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = results_a / "rates" / "r1-uwsgi-ping.json"
    document = json.loads(path.read_text())
    document["skipped"] = [
        {
            "offered_rps": point["offered_rps"],
            "reason": "common",
            "why": "above the client's ceiling",
        }
        for point in document["points"]
    ]
    document["points"] = []
    document["client"]["ceiling_rps"] = 3000.0
    path.write_text(json.dumps(document))
    assert main(["combine", str(results_a)]) == 0
    markdown, _ = render(results_a, capsys)
    assert "| uwsgi | n/a | no rate run (client-bound) |" in section(markdown, "Capacity at SLO")
