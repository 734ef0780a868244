"""combine + render through the CLI on the captured fixtures: results.json, Markdown, CSV,
charts and the self-contained HTML page."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from pathlib import Path

import pytest

from benchreport.__main__ import main
from benchreport.charts import render_chart
from benchreport.header import SCHEMA_VERSION
from benchreport.render_markdown import render_markdown
from benchreport.report import build_report
from benchreport.schema import Thresholds
from benchreport.store import combine, load_results

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def rendered(results_a: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    assert main(["combine", str(results_a)]) == 0
    assert main(["render", str(results_a)]) == 0
    return results_a, capsys.readouterr().out


def test_combine_writes_documented_results_json(results_a: Path) -> None:
    assert main(["combine", str(results_a), "--max-error-rate", "0.05"]) == 0
    document = json.loads((results_a / "results.json").read_text())
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["kind"] == "results"
    assert document["label"] == results_a.name
    assert document["thresholds"] == {"min_answered_fraction": 1.0, "max_error_rate": 0.05}
    assert document["host"]["vcpus"] >= 1
    assert set(document["versions"]["servers"]) == {"uwsgi", "gunicorn", "granian", "uvicorn"}
    assert len(document["runs"]) == 12
    assert all(run["file"].startswith("runs/") for run in document["runs"])
    rounds = [run["labels"]["round"] for run in document["runs"]]
    assert rounds == sorted(rounds)  # round 1 first, as the sweep ran
    summary = {(row["config"]["name"], row["endpoint"]): row for row in document["summary"]}
    assert len(summary) == 6
    assert summary["granian", "db"]["config"] == {
        "name": "granian",
        "server": "granian",
        "interface": "asgi",
        "proxy": None,
        "overrides": {},
        "knobs": {"workers": 1, "mode": "close"},
    }
    assert summary["granian", "db"]["config_descriptions"] == ["asgi workers=1 mode=close"]
    assert summary["uwsgi", "ping"]["flags"] == ["starved"]
    assert summary["uwsgi", "ping"]["ranked"] is False
    assert summary["gunicorn", "ping"]["ranked"] is True


def test_render_writes_every_output(rendered: tuple[Path, str]) -> None:
    directory, stdout = rendered
    for name in ("report.md", "report.csv", "runs.csv", "report.html"):
        assert (directory / name).stat().st_size > 0, name
    for name in ("rps.png", "p99.png", "pss.png", "spread.png", "rates-ping.png", "rates-db.png"):
        assert (directory / "charts" / name).read_bytes().startswith(PNG_SIGNATURE)
    # The ranking printed at the end of the sweep.
    assert "Requests per second, endpoint `ping` (closed-loop ranking: the study's view)" in stdout
    assert re.search(r"^1\s+gunicorn", stdout, re.MULTILINE)
    assert re.search(r"^not ranked\s+uwsgi .* starved$", stdout, re.MULTILINE)
    assert "fastest unflagged config in the closed loop is gunicorn" in stdout


def test_markdown_has_the_study_tables(rendered: tuple[Path, str]) -> None:
    markdown = (rendered[0] / "report.md").read_text()
    assert (
        "### Requests per second, endpoint `ping` (closed-loop ranking: the study's view)"
        in markdown
    )
    assert "### Memory, endpoint `ping` (ranking by peak PSS, lowest first)" in markdown
    assert "### Latency, endpoint `ping`" in markdown
    assert "### Errors and fairness, endpoint `ping`" in markdown
    # The study's published numbers, labelled as the study's.
    assert "| Study req/s |" in markdown
    assert "Study MB (RSS sum)" in markdown
    assert "they are not results of this run" in markdown
    closed_loop = markdown.split("### Requests per second, endpoint `ping`")[1]
    uwsgi_row = next(
        line for line in closed_loop.splitlines() if line.startswith("| not ranked | uwsgi |")
    )
    assert "| 1,206 |" in uwsgi_row
    assert uwsgi_row.endswith("| starved |")
    assert "## Flagged configs" in markdown
    assert "- **uvicorn** / `ping`: errors:" in markdown
    assert "![charts/rps.png](charts/rps.png)" in markdown


def test_rendering_is_deterministic(results_a: Path) -> None:
    outputs = []
    for _ in range(2):
        combine(results_a, Thresholds(), created_at="2025-01-01T00:00:00Z")
        document = build_report(load_results(results_a))
        outputs.append((render_markdown(document), [render_chart(c) for c in document.charts]))
    assert outputs[0] == outputs[1]


def test_csv_has_one_row_per_server_and_endpoint(rendered: tuple[Path, str]) -> None:
    rows = list(csv.DictReader(io.StringIO((rendered[0] / "report.csv").read_text())))
    assert len(rows) == 6
    by_key = {(row["server"], row["endpoint"]): row for row in rows}
    assert by_key["uwsgi", "ping"]["ranked"] == "no"
    assert by_key["uwsgi", "ping"]["flags"] == "starved"
    assert by_key["gunicorn", "ping"]["ranked"] == "yes"
    assert float(by_key["gunicorn", "ping"]["rps_mean"]) > 0
    assert int(by_key["gunicorn", "ping"]["pss_peak_bytes"]) > 0
    assert by_key["uwsgi", "ping"]["study_rps"] == "1206"
    assert by_key["granian", "db"]["errors_read"] == "0"
    granian = by_key["granian", "db"]
    assert (granian["config"], granian["interface"], granian["proxy"]) == ("granian", "asgi", "")
    assert json.loads(granian["overrides"]) == {}
    assert json.loads(granian["knobs"]) == {"workers": 1, "mode": "close"}
    runs = list(csv.DictReader(io.StringIO((rendered[0] / "runs.csv").read_text())))
    assert len(runs) == 12


def test_html_is_self_contained(rendered: tuple[Path, str]) -> None:
    page = (rendered[0] / "report.html").read_text()
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    # rates-db, rates-ping, spread (no earlier sweep here: no trend), rps, p99, pss.
    assert len(images) == 6
    assert all(base64.b64decode(image).startswith(PNG_SIGNATURE) for image in images)
    # No external asset of any kind.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" not in page
    assert "<link" not in page
    assert "@import" not in page
    assert '<tr class="flagged">' in page
    assert "Study req/s" in page


def test_configs_of_one_server_are_shown_apart(
    results_a: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A server measured through a proxy and with overrides: one row per config, each named
    from its fields, its Config column made from its knobs."""
    for round_number in (1, 2):
        source = results_a / "runs" / f"r{round_number}-gunicorn-ping.json"
        run = json.loads(source.read_text())
        run["labels"].update(proxy="caddy", overrides={"workers": 4, "threads": 2})
        run["labels"]["knobs"].update(workers=4, threads=2)
        (results_a / "runs" / f"r{round_number}-gunicorn-caddy-ping.json").write_text(
            json.dumps(run)
        )
    assert main(["combine", str(results_a)]) == 0
    assert main(["render", str(results_a)]) == 0
    capsys.readouterr()
    markdown = (results_a / "report.md").read_text()
    ping_ranking = markdown.split("### Requests per second, endpoint `ping`")[1].split("###")[0]
    assert "| gunicorn | wsgi workers=1 mode=fair |" in ping_ranking
    assert (
        "| gunicorn-caddy (threads=2, workers=4) | wsgi workers=4 mode=fair threads=2 via=caddy |"
        in ping_ranking
    )
    rows = list(csv.DictReader(io.StringIO((results_a / "report.csv").read_text())))
    caddy = next(row for row in rows if row["proxy"] == "caddy")
    assert caddy["server"] == "gunicorn"
    assert json.loads(caddy["overrides"]) == {"threads": 2, "workers": 4}
    assert caddy["rounds"] == "2"


def test_the_sweep_manifest_says_how_to_run_it_again(
    results_a: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command = 'ansible-playbook playbooks/benchmark.yml -e \'{"servers": ["uwsgi"]}\''
    manifest = {"command": command, "project_commit": "0123abc", "rounds": 2}
    (results_a / "sweep.json").write_text(json.dumps(manifest))
    assert main(["combine", str(results_a)]) == 0
    assert json.loads((results_a / "results.json").read_text())["sweep"] == manifest
    assert main(["render", str(results_a)]) == 0
    report = (results_a / "report.md").read_text()
    assert f"- Run with: `{command}` (project commit 0123abc)" in report
    assert "project commit 0123abc" in (results_a / "report.html").read_text()
    capsys.readouterr()


def test_a_report_without_a_manifest_says_nothing_of_it(rendered: tuple[Path, str]) -> None:
    results_dir, _ = rendered
    assert "Run with:" not in (results_dir / "report.md").read_text()
