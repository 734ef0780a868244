"""A cluster sweep's report: who ran what (topology.json), the plain statement when the hosts
share one machine's cores, the answers per app host (wrk's counts by X-Served-By) and each
config on SQLite beside PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from benchreport.__main__ import main
from benchreport.jsonfields import Ctx, InputError
from benchreport.schema import parse_wrk
from benchreport.store import load_results
from benchreport.sweep_files import parse_topology

BOOT = "5b1e0c44-0000-4000-8000-000000000001"


def topology_document(**changes: object) -> dict[str, Any]:
    """The lab cluster's topology.json, as playbooks/benchmark.yml writes it."""

    def host(
        name: str, parts: list[str], address: str, boot_id: str | None = BOOT
    ) -> dict[str, object]:
        return {"name": name, "parts": parts, "address": address, "vcpus": 2, "boot_id": boot_id}

    document = {
        "format": "topology/1",
        "cluster": True,
        "database": "postgres",
        "hosts": [
            host("app1", ["app"], "172.30.81.11"),
            host("app2", ["app"], "172.30.81.12"),
            host("data1", ["db", "cache"], "172.30.81.13"),
            host("proxy1", ["proxy"], "172.30.81.10"),
            host("load1", ["loadgen"], "172.30.81.14"),
        ],
        "app_hosts": ["app1", "app2"],
        "proxy_host": "proxy1",
        "load_host": "load1",
        "count_header": "X-Served-By",
        "measured_host": "app1",
    }
    document.update(changes)
    return document


def test_the_topology_maps_a_served_by_value_to_its_app_host() -> None:
    topology = parse_topology(topology_document(), "topology.json")
    assert topology.host_of_upstream("172.30.81.11:8000") == "app1"
    assert topology.host_of_upstream("172.30.81.12") == "app2"
    # Not an app host, and an address of no host.
    assert topology.host_of_upstream("172.30.81.13:8000") is None
    assert topology.host_of_upstream("(missing)") is None
    assert topology.hosts_with("db") == ["data1"]


def test_an_ipv6_upstream_is_matched_without_its_brackets_and_port() -> None:
    document = topology_document()
    document["hosts"][0]["address"] = "2001:db8::11"
    topology = parse_topology(document, "topology.json")
    assert topology.host_of_upstream("[2001:db8::11]:8000") == "app1"


def test_hosts_with_one_boot_id_share_a_kernel() -> None:
    document = topology_document()
    document["hosts"][4]["boot_id"] = "another-kernel"
    topology = parse_topology(document, "topology.json")
    assert topology.shared_kernels() == [("app1", "app2", "data1", "proxy1")]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": "topology/9"}, "format: expected 'topology/1'"),
        ({"cluster": "yes"}, "cluster: expected true or false"),
        ({"app_hosts": ["app3"]}, "app_hosts[0]: expected a host of hosts"),
        ({"hosts": []}, "hosts"),
        ({"databases": ["sqlite", "mysql"]}, "databases[1]: expected one of sqlite, postgres"),
    ],
)
def test_a_bad_topology_file_names_the_field(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=re.escape(message)):
        parse_topology(topology_document(**changes), "topology.json")


def test_a_host_with_an_unknown_part_is_refused() -> None:
    document = topology_document()
    document["hosts"][2]["parts"] = ["db", "mysql"]
    with pytest.raises(InputError, match=re.escape("hosts[2].parts: expected a list of app")):
        parse_topology(document, "topology.json")


def wrk_document(requests: int, counts: dict[str, int] | None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "requests": requests,
        "duration_us": 1_000_000,
        "bytes": 100 * requests,
        "rps": float(requests),
        "latency_us": dict.fromkeys(("min", "mean", "stdev", "max", "p50", "p99"), 1000),
        "errors": {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0},
    }
    if counts is not None:
        document["header_counts"] = {"header": "X-Served-By", "counts": counts}
    return document


def test_header_counts_are_read_and_checked_against_the_requests() -> None:
    parsed = parse_wrk(wrk_document(10, {"a:1": 6, "b:1": 4}), Ctx("wrk"))
    assert parsed.header_counts is not None
    assert parsed.header_counts.total == 10
    assert parse_wrk(wrk_document(10, None), Ctx("wrk")).header_counts is None
    with pytest.raises(InputError, match="add up to 11, more than the 10 requests"):
        parse_wrk(wrk_document(10, {"a:1": 6, "b:1": 5}), Ctx("wrk"))
    with pytest.raises(InputError, match=re.escape("counts.a:1: expected >= 0")):
        parse_wrk(wrk_document(10, {"a:1": -1}), Ctx("wrk"))


def as_cluster_runs(results_dir: Path) -> None:
    """Make fixture set A's gunicorn runs look like a cluster sweep's: through caddy, counted
    by X-Served-By, once on SQLite and once on PostgreSQL (the second a bit slower)."""
    for source in sorted((results_dir / "runs").glob("*.json")):
        run = json.loads(source.read_text())
        source.unlink()
        if run["labels"]["server"] != "gunicorn":
            continue
        for database, factor in (("sqlite", 1.0), ("postgres", 0.8)):
            copy = json.loads(json.dumps(run))
            copy["labels"].update(proxy="caddy", database=database)
            wrk = copy["wrk"]
            wrk["rps"] = wrk["rps"] * factor
            first = wrk["requests"] // 2
            wrk["header_counts"] = {
                "header": "X-Served-By",
                "counts": {
                    "172.30.81.11:8000": first,
                    "172.30.81.12:8000": wrk["requests"] - first,
                },
            }
            target = results_dir / "runs" / f"{source.stem}-{database}.json"
            target.write_text(json.dumps(copy))
    for name in ("rates", "ceiling.json"):
        path = results_dir / name
        if path.is_dir():
            for item in path.iterdir():
                item.unlink()
            path.rmdir()
        elif path.exists():
            path.unlink()


def test_a_cluster_report_states_the_topology_counts_and_databases(
    results_a: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    as_cluster_runs(results_a)
    topology = topology_document(databases=["sqlite", "postgres"])
    (results_a / "topology.json").write_text(json.dumps(topology))
    assert main(["combine", str(results_a)]) == 0
    result_set = load_results(results_a)
    assert result_set.topology is not None
    assert result_set.topology.app_hosts == ("app1", "app2")
    names = {run.config.name for run in result_set.runs}
    assert names == {"gunicorn-caddy on sqlite", "gunicorn-caddy on postgres"}

    assert main(["render", str(results_a)]) == 0
    console = capsys.readouterr().out
    report = (results_a / "report.md").read_text()
    assert "## Topology" in report
    assert "Cluster: 2 app hosts (app1 and app2); behind proxy1's Caddy" in report
    assert (
        "the app on sqlite (a file on each app host), then on postgres on data1; Redis on data1; "
        "the load from load1." in report
    )
    # Said plainly, in the report and on the console.
    statement = "This run proves function, not scaling."
    assert statement in report
    assert statement in console
    assert "app1, app2, data1, proxy1 and load1 report one kernel boot id" in report
    assert "`inventory/example-cluster`" in report

    answers = report.split("## Answers per app host")[1].split("\n## ")[0]
    assert "| Config | Endpoint | Round | answers | app1 | app2 |" in answers
    row = next(line for line in answers.splitlines() if "gunicorn-caddy on sqlite" in line)
    assert "(50.0%)" in row or "(49.9%)" in row

    databases = report.split("## SQLite and PostgreSQL")[1].split("\n## ")[0]
    assert "sqlite req/s | postgres req/s | Δ to postgres" in databases
    assert "-20.0%" in databases
    assert "SQLite and PostgreSQL" not in console or "postgres req/s" in console


def test_a_single_host_topology_says_nothing_of_shared_cores(
    results_a: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = topology_document(
        cluster=False,
        database="sqlite",
        hosts=[{"name": "lab1", "parts": ["app", "cache"], "address": None, "vcpus": 2}],
        app_hosts=["lab1"],
        proxy_host=None,
        load_host="lab1",
        count_header=None,
    )
    (results_a / "topology.json").write_text(json.dumps(document))
    assert main(["combine", str(results_a)]) == 0
    assert main(["render", str(results_a)]) == 0
    capsys.readouterr()
    report = (results_a / "report.md").read_text()
    assert "One host, **lab1**, runs the app with its own Redis and database (sqlite)" in report
    assert "proves function" not in report
    assert "## Answers per app host" not in report
    assert "## SQLite and PostgreSQL" not in report
