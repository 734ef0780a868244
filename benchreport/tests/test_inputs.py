"""Missing and malformed inputs: exit code 2 and a message naming the file and the problem."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from benchreport.__main__ import EXIT_INPUT_ERROR, main

Edit = Callable[[dict[str, object]], None]


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().err


def edit_json(path: Path, edit: Edit) -> None:
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


def test_missing_results_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(["combine", str(tmp_path / "nope")], capsys)
    assert code == EXIT_INPUT_ERROR
    assert f"{tmp_path / 'nope'}: not a directory" in err


def test_missing_host_file(results_a: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (results_a / "host.json").unlink()
    code, err = run_cli(["combine", str(results_a)], capsys)
    assert code == EXIT_INPUT_ERROR
    assert f"{results_a / 'host.json'}: file not found" in err


def test_no_run_files(results_a: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for path in (results_a / "runs").glob("*.json"):
        path.unlink()
    code, err = run_cli(["combine", str(results_a)], capsys)
    assert code == EXIT_INPUT_ERROR
    assert "no run files (*.json)" in err


def test_run_file_not_json(results_a: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = results_a / "runs" / "r1-uwsgi-ping.json"
    bad.write_text('{"schema_version": 2,')
    code, err = run_cli(["combine", str(results_a)], capsys)
    assert code == EXIT_INPUT_ERROR
    assert f"{bad}: not valid JSON (line 1" in err


def set_read_errors(document: dict[str, object]) -> None:
    wrk = document["wrk"]
    assert isinstance(wrk, dict)
    wrk["errors"]["read"] = "many"


def drop_labels_server(document: dict[str, object]) -> None:
    labels = document["labels"]
    assert isinstance(labels, dict)
    del labels["server"]


def set_labels(**values: object) -> Edit:
    def edit(document: dict[str, object]) -> None:
        labels = document["labels"]
        assert isinstance(labels, dict)
        labels.update(values)

    return edit


def set_impossible_fraction(document: dict[str, object]) -> None:
    fairness = document["fairness"]
    assert isinstance(fairness, dict)
    fairness["answered_fraction"] = 1.5


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            set_read_errors,
            "runs/r1-uwsgi-ping.json: wrk.errors.read: expected an integer, got 'many'",
        ),
        (drop_labels_server, "runs/r1-uwsgi-ping.json: labels.server: missing field"),
        (
            lambda document: document.update(schema_version=99),
            "runs/r1-uwsgi-ping.json: schema_version: unsupported schema version 99",
        ),
        (
            lambda document: document.update(schema_version=1),
            "runs/r1-uwsgi-ping.json: schema_version: unsupported schema version 1, "
            "this tool reads version 2",
        ),
        (
            set_labels(interface="cgi"),
            "runs/r1-uwsgi-ping.json: labels.interface: expected one of wsgi, asgi, got 'cgi'",
        ),
        (
            set_labels(proxy=""),
            "runs/r1-uwsgi-ping.json: labels.proxy: expected a non-empty string or null, got ''",
        ),
        (
            set_labels(overrides={"workers": 1.5}),
            "runs/r1-uwsgi-ping.json: labels.overrides.workers: expected an integer or a string, "
            "got 1.5",
        ),
        (
            set_labels(knobs=["workers=2"]),
            "runs/r1-uwsgi-ping.json: labels.knobs: expected an object or null, got ['workers=2']",
        ),
        (
            lambda document: document.update(kind="results"),
            "runs/r1-uwsgi-ping.json: kind: expected 'run', got 'results'",
        ),
        (
            set_impossible_fraction,
            "runs/r1-uwsgi-ping.json: fairness.answered_fraction: expected 0..1, got 1.5",
        ),
    ],
)
def test_malformed_run_names_file_and_field(
    results_a: Path, capsys: pytest.CaptureFixture[str], edit: Edit, message: str
) -> None:
    edit_json(results_a / "runs" / "r1-uwsgi-ping.json", edit)
    code, err = run_cli(["combine", str(results_a)], capsys)
    assert code == EXIT_INPUT_ERROR
    assert message in err


def test_duplicate_run(results_a: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = results_a / "runs" / "r1-uwsgi-ping.json"
    (results_a / "runs" / "zz-copy.json").write_text(source.read_text())
    code, err = run_cli(["combine", str(results_a)], capsys)
    assert code == EXIT_INPUT_ERROR
    assert (
        "duplicate run config=uwsgi (wsgi) endpoint=ping round=1, also in runs/r1-uwsgi-ping.json"
        in err
    )


def test_runs_of_other_overrides_are_not_duplicates(results_a: Path) -> None:
    source = results_a / "runs" / "r1-uwsgi-ping.json"
    copy = results_a / "runs" / "r1-uwsgi-w1-ping.json"
    copy.write_text(source.read_text())
    edit_json(copy, set_labels(overrides={"workers": 1}))
    assert main(["combine", str(results_a)]) == 0


def test_runs_of_other_knobs_are_duplicates(
    results_a: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Knobs describe a config, they do not identify it: same choice, same identity."""
    source = results_a / "runs" / "r1-uwsgi-ping.json"
    copy = results_a / "runs" / "zz-copy.json"
    copy.write_text(source.read_text())
    edit_json(copy, set_labels(knobs={"workers": 4}))
    code, err = run_cli(["combine", str(results_a)], capsys)
    assert code == EXIT_INPUT_ERROR
    assert "duplicate run config=uwsgi (wsgi) endpoint=ping round=1" in err


def test_versions_without_servers(results_a: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_json(results_a / "versions.json", lambda document: document.update(servers={}))
    code, err = run_cli(["combine", str(results_a)], capsys)
    assert code == EXIT_INPUT_ERROR
    assert "versions.json: servers: expected at least one server package version" in err


def test_host_with_bad_vcpus(results_a: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit_json(results_a / "host.json", lambda document: document.update(vcpus="two"))
    code, err = run_cli(["combine", str(results_a)], capsys)
    assert code == EXIT_INPUT_ERROR
    assert "host.json: vcpus: expected an integer, got 'two'" in err


def test_bad_threshold(results_a: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(["combine", str(results_a), "--max-error-rate", "5"], capsys)
    assert code == EXIT_INPUT_ERROR
    assert "command line: max_error_rate: expected 0..1, got 5.0" in err


def test_render_before_combine(results_a: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(["render", str(results_a)], capsys)
    assert code == EXIT_INPUT_ERROR
    assert "results.json: file not found (run `python -m benchreport combine" in err


def test_malformed_results_json(results_a: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["combine", str(results_a)]) == 0
    edit_json(results_a / "results.json", lambda document: document.update(runs=[]))
    code, err = run_cli(["render", str(results_a)], capsys)
    assert code == EXIT_INPUT_ERROR
    assert "results.json: runs: expected a non-empty list of runs" in err


def test_sweep_manifest_without_its_command(
    results_a: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (results_a / "sweep.json").write_text('{"project_commit": "0123abc"}')
    assert main(["combine", str(results_a)]) == EXIT_INPUT_ERROR
    assert "sweep.json: command: missing field" in capsys.readouterr().err


# --- Benchmark 2.0's files: rates/*.json, ceiling.json, timing.json, sweep.json's new fields

RATES = "rates/r1-gunicorn-ping.json"


def first_point(change: Callable[[dict[str, object]], None]) -> Edit:
    def edit(document: dict[str, object]) -> None:
        points = document["points"]
        assert isinstance(points, list)
        change(points[0])

    return edit


def drop(key: str) -> Callable[[dict[str, object]], None]:
    return lambda document: document.pop(key)


def drop_in(outer: str, key: str) -> Callable[[dict[str, object]], None]:
    def edit(document: dict[str, object]) -> None:
        inner = document[outer]
        assert isinstance(inner, dict)
        del inner[key]

    return edit


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        (RATES, drop("points"), f"{RATES}: points: missing field"),
        (
            RATES,
            lambda doc: doc.update(points={"offered_rps": 4000}),
            f"{RATES}: points: expected a list, got {{'offered_rps': 4000}}",
        ),
        (RATES, drop("started_at"), f"{RATES}: started_at: missing field"),
        (RATES, drop_in("client", "ceiling_rps"), f"{RATES}: client.ceiling_rps: missing field"),
        (
            RATES,
            lambda doc: doc["labels"].update(round=0),  # type: ignore[index]
            f"{RATES}: labels.round: expected a round number >= 1, got 0",
        ),
        (
            RATES,
            first_point(drop("service_latency_us")),
            f"{RATES}: points[0].service_latency_us: missing field",
        ),
        (
            RATES,
            lambda doc: doc.update(skipped=[{"why": "above the client's ceiling"}]),
            f"{RATES}: skipped[0].offered_rps: missing field",
        ),
        (RATES, lambda doc: doc.update(slo_ms=0), f"{RATES}: slo_ms: expected a number > 0, got 0"),
        (RATES, lambda doc: doc.update(slo_ms="100"), f"{RATES}: slo_ms: expected a number"),
        (RATES, lambda doc: doc.update(kind="run"), f"{RATES}: kind: expected 'rates', got 'run'"),
        (RATES, drop_in("labels", "endpoint"), f"{RATES}: labels.endpoint: missing field"),
        (
            RATES,
            first_point(drop_in("errors", "unsent")),
            f"{RATES}: points[0].errors.unsent: missing field",
        ),
        (
            RATES,
            first_point(drop_in("latency_us", "p99")),
            f"{RATES}: points[0].latency_us.p99: missing field",
        ),
        (
            RATES,
            first_point(lambda point: point.update(completed=1.5)),
            f"{RATES}: points[0].completed: expected an integer, got 1.5",
        ),
        (
            RATES,
            first_point(lambda point: point.update(reason="guess")),
            f"{RATES}: points[0].reason: expected one of common, knee, given, descent, got 'guess'",
        ),
        (
            "ceiling.json",
            lambda doc: doc.update(format="ceiling/9"),
            "ceiling.json: format: expected 'ceiling/1', got 'ceiling/9'",
        ),
        (
            "ceiling.json",
            lambda doc: doc["endpoints"]["ping"].update(cpu_us_per_request=0),  # type: ignore[index]
            "ceiling.json: endpoints.ping.cpu_us_per_request: expected a number > 0, got 0",
        ),
        (
            "ceiling.json",
            lambda doc: doc["endpoints"]["db"].pop("requests"),  # type: ignore[index]
            "ceiling.json: endpoints.db.requests: missing field",
        ),
        ("timing.json", drop("total_s"), "timing.json: total_s: missing field"),
        (
            "timing.json",
            lambda doc: doc["phases"][1].update(seconds="180"),  # type: ignore[index]
            "timing.json: phases[1].seconds: expected a number, got '180'",
        ),
    ],
)
def test_malformed_benchmark2_file_names_file_and_field(
    results_a: Path, capsys: pytest.CaptureFixture[str], name: str, edit: Edit, message: str
) -> None:
    edit_json(results_a / name, edit)
    code, err = run_cli(["combine", str(results_a)], capsys)
    assert code == EXIT_INPUT_ERROR
    assert message in err
    assert not (results_a / "results.json").exists()


def test_duplicate_rates_file(results_a: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (results_a / "rates" / "zz-copy.json").write_text((results_a / RATES).read_text())
    code, err = run_cli(["combine", str(results_a)], capsys)
    assert code == EXIT_INPUT_ERROR
    assert (
        "rates/zz-copy.json: duplicate rates file config=gunicorn (wsgi) endpoint=ping, "
        f"also in {RATES}" in err
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"app_profile": "fat"}, "app_profile: expected one of lean, study, got 'fat'"),
        ({"benchmark_slo_ms": 0}, "benchmark_slo_ms: expected a number > 0, got 0"),
        ({"benchmark_rates": [1000, "x"]}, "benchmark_rates[1]: expected a number, got 'x'"),
        ({"benchmark_rate_fractions": 0.5}, "benchmark_rate_fractions: expected a list"),
    ],
)
def test_malformed_sweep_fields(
    results_a: Path, capsys: pytest.CaptureFixture[str], fields: dict[str, object], message: str
) -> None:
    manifest = {"command": "ansible-playbook playbooks/benchmark.yml", "project_commit": "abc"}
    (results_a / "sweep.json").write_text(json.dumps({**manifest, **fields}))
    code, err = run_cli(["combine", str(results_a)], capsys)
    assert code == EXIT_INPUT_ERROR
    assert f"sweep.json: {message}" in err


def test_a_folder_without_benchmark2_files_still_combines(results_b: Path) -> None:
    assert main(["combine", str(results_b)]) == 0
    document = json.loads((results_b / "results.json").read_text())
    assert not {"rates", "capacity", "ceiling", "timing"} & set(document)
