"""compare: two captured result sets side by side."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from benchreport.__main__ import EXIT_INPUT_ERROR, main
from benchreport.comparison import delta_pct


def test_compare_two_result_sets(
    results_a: Path, results_b: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["combine", str(results_a)]) == 0
    assert main(["combine", str(results_b)]) == 0
    output = tmp_path / "compare"
    assert (
        main(["compare", str(results_a), str(results_b / "results.json"), "--output", str(output)])
        == 0
    )
    stdout = capsys.readouterr().out
    assert f"A = {results_a.name}" in stdout
    assert "A vs B per config and endpoint" in stdout

    rows = list(csv.DictReader(io.StringIO((output / "compare.csv").read_text())))
    by_key = {(row["config"], row["endpoint"]): row for row in rows}
    assert len(by_key) == 6  # the union of both sets
    gunicorn = by_key["gunicorn", "ping"]
    expected = (
        100 * (float(gunicorn["rps_b"]) - float(gunicorn["rps_a"])) / float(gunicorn["rps_a"])
    )
    assert float(gunicorn["rps_delta_pct"]) == pytest.approx(expected, abs=0.01)
    assert by_key["granian", "db"]["rps_b"] == ""  # only set A ran it
    assert by_key["uwsgi", "ping"]["ranked_a"] == "no"  # starving in A, fair in B
    assert by_key["uwsgi", "ping"]["ranked_b"] == "yes"

    markdown = (output / "compare.md").read_text()
    assert "| granian | db |" in markdown
    assert "not run" in markdown
    assert "| vCPUs |" in markdown
    assert (
        "| Load | wrk -t2 -c8 -d1s --timeout 2s | wrk -t2 -c16 -d1s --timeout 2s | DIFFERS |"
        in markdown
    )
    page = (output / "compare.html").read_text()
    assert page.count('src="data:image/png;base64,') == 1
    assert (output / "charts" / "compare_rps.png").stat().st_size > 0


def test_delta_pct() -> None:
    assert delta_pct(100.0, 150.0) == 50.0
    assert delta_pct(200.0, 100.0) == -50.0
    assert delta_pct(None, 1.0) is None
    assert delta_pct(0.0, 1.0) is None


def test_configs_that_share_a_name_cannot_be_paired(
    results_a: Path, results_b: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two configs of one set that differ only in interface have the same name."""
    source = results_b / "runs" / "r1-granian-ping.json"
    run = json.loads(source.read_text())
    run["labels"]["interface"] = "wsgi"
    (results_b / "runs" / "r1-granian-wsgi-ping.json").write_text(json.dumps(run))
    assert main(["combine", str(results_a)]) == 0
    assert main(["combine", str(results_b)]) == 0
    code = main(["compare", str(results_a), str(results_b), "--output", str(tmp_path / "c")])
    assert code == EXIT_INPUT_ERROR
    assert (
        f"{results_b / 'results.json'}: two configs named 'granian' on endpoint 'ping' "
        "(asgi and wsgi)" in capsys.readouterr().err
    )
