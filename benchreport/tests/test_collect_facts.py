"""collect_facts.py writes host.json and versions.json that the controller accepts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from benchreport.schema import parse_host, parse_versions
from tests.support.servers import run_target_script


def collect(tmp_path: Path, *args: str) -> tuple[dict[str, object], dict[str, object]]:
    host, versions = tmp_path / "host.json", tmp_path / "versions.json"
    completed = run_target_script(
        "collect_facts.py",
        *("--host-output", str(host), "--versions-output", str(versions)),
        *("--python", sys.executable),  # the test venv: it has pytest, not uwsgi
        *args,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(host.read_text()), json.loads(versions.read_text())


def test_facts_parse_as_documented(tmp_path: Path) -> None:
    host, versions = collect(tmp_path, "--server", "uwsgi", "--server", "testrunner=pytest")
    parsed_host = parse_host(host, "host.json")
    assert parsed_host.vcpus >= 1
    assert parsed_host.memory_bytes > 0
    assert parsed_host.kernel
    parsed_versions = parse_versions(versions, "versions.json")
    assert parsed_versions.servers["uwsgi"] is None  # not installed in that interpreter
    assert parsed_versions.servers["testrunner"] == pytest.__version__
    assert parsed_versions.python == ".".join(map(str, sys.version_info[:3]))


def test_merge_keeps_versions_found_earlier(tmp_path: Path) -> None:
    collect(tmp_path, "--server", "first=pytest")
    _, versions = collect(tmp_path, "--server", "second=pluggy", "--merge")
    servers = versions["servers"]
    assert isinstance(servers, dict)
    assert servers["first"] is not None
    assert servers["second"] is not None


def test_load_host_wrk_version_and_extra_facts_are_recorded(tmp_path: Path) -> None:
    host, versions = collect(
        tmp_path,
        *("--server", "uwsgi", "--wrk-version", "debian/4.1.0-3+b2"),
        *("--extra", "load_host=load1 (2 vCPUs)"),
    )
    assert versions["wrk"] == "debian/4.1.0-3+b2"
    extra = parse_host(host, "host.json").extra
    assert extra["load_host"] == "load1 (2 vCPUs)"
    assert extra["cgroup"] in {"v1", "v2"}  # the measured facts stay


def test_extra_without_a_value_is_refused(tmp_path: Path) -> None:
    completed = run_target_script(
        "collect_facts.py",
        *("--host-output", str(tmp_path / "h.json"), "--versions-output", str(tmp_path / "v.json")),
        *("--server", "uwsgi", "--extra", "load_host"),
    )
    assert completed.returncode == 2
    assert "--extra takes KEY=VALUE" in completed.stderr
