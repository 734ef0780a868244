"""sample_resources.py: the --pid path on real processes, the cgroup v1/v2 readers on fake
sysfs trees (the build machines have no systemd as PID 1), the unit path with systemctl faked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import (
    RunningServer,
    load_target_module,
    run_target_script,
)

sampler_module = load_target_module("sample_resources")

UNIT_CGROUP = "/system.slice/app.service"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def parent_with_child() -> Iterator[subprocess.Popen[str]]:
    """A process with one child, like a pre-fork server's master and worker."""
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    child_pid = int(process.stdout.readline())  # printed once the child exists
    try:
        yield process
    finally:
        process.kill()
        process.wait()
        os.kill(child_pid, 9)
        process.stdout.close()


def test_pid_mode_samples_a_real_server(fair_server: RunningServer, tmp_path: Path) -> None:
    output = tmp_path / "resources.json"
    completed = run_target_script(
        "sample_resources.py",
        *("--pid", str(fair_server.pid), "--duration", "0.5", "--interval-ms", "100"),
        *("--output", str(output)),
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(output.read_text())
    assert result["targets"] == [f"pid:{fair_server.pid}"]
    assert result["samples"] >= 3
    assert result["processes_max"] == 1
    pss, rss = result["pss_bytes"], result["rss_bytes"]
    assert 0 < pss["start"] <= pss["peak"]
    assert pss["peak"] <= rss["peak"]
    assert result["server_cpu_seconds"] is not None
    assert result["server_cpu_seconds"] >= 0
    assert result["cgroup_memory_bytes"]["peak"] is None  # no cgroup in --pid mode
    assert len(result["timeline"]["t_s"]) == result["samples"]


def test_pid_mode_follows_children(parent_with_child: subprocess.Popen[str]) -> None:
    sampler = sampler_module.build_sampler([], [], [parent_with_child.pid], interval_ms=50)
    sampler.run(0.15)
    result = sampler.result()
    assert result["processes_max"] == 2  # the parent and its child
    assert result["pss_bytes"]["peak"] > 0


def test_stop_file_ends_sampling_early(fair_server: RunningServer, tmp_path: Path) -> None:
    stop_file = tmp_path / "stop"
    stop_file.touch()
    began = time.monotonic()
    completed = run_target_script(
        "sample_resources.py",
        *("--pid", str(fair_server.pid), "--duration", "30", "--stop-file", str(stop_file)),
    )
    assert completed.returncode == 0, completed.stderr
    assert time.monotonic() - began < 10
    assert json.loads(completed.stdout)["samples"] >= 1


def test_missing_pid_is_an_error() -> None:
    completed = run_target_script("sample_resources.py", "--pid", "999999999")
    assert completed.returncode == 2
    assert "process 999999999 does not exist" in completed.stderr


def test_no_target_is_an_error() -> None:
    completed = run_target_script("sample_resources.py", "--duration", "1")
    assert completed.returncode == 2
    assert "--unit, --cgroup or --pid" in completed.stderr


def fake_v2(root: Path, pids: list[int]) -> None:
    write(root / "cgroup.controllers", "cpu memory pids\n")
    unit = root / UNIT_CGROUP.strip("/")
    write(unit / "cgroup.procs", f"{pids[0]}\n")
    write(unit / "worker" / "cgroup.procs", "".join(f"{pid}\n" for pid in pids[1:]))
    write(unit / "memory.current", "73400320\n")
    write(unit / "memory.peak", "104857600\n")
    write(unit / "cpu.stat", "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n")


def fake_v1(root: Path, pids: list[int]) -> None:
    cgroup = UNIT_CGROUP.strip("/")
    write(root / "systemd" / cgroup / "cgroup.procs", "".join(f"{pid}\n" for pid in pids))
    write(root / "memory" / cgroup / "memory.usage_in_bytes", "52428800\n")
    write(root / "memory" / cgroup / "memory.max_usage_in_bytes", "62914560\n")
    write(root / "cpu,cpuacct" / cgroup / "cpuacct.usage", "1500000000\n")


def test_cgroup_v2_readers(tmp_path: Path) -> None:
    fake_v2(tmp_path, [11, 12, 13])
    root = str(tmp_path)
    assert sampler_module.detect_cgroup_version(root) == 2
    assert sampler_module.cgroup_pids(root, 2, UNIT_CGROUP) == {11, 12, 13}
    assert sampler_module.cgroup_memory(root, 2, UNIT_CGROUP) == (73400320, 104857600)
    assert sampler_module.cgroup_cpu_seconds(root, 2, UNIT_CGROUP) == 2.5


def test_cgroup_v1_readers(tmp_path: Path) -> None:
    fake_v1(tmp_path, [21, 22])
    root = str(tmp_path)
    assert sampler_module.detect_cgroup_version(root) == 1
    assert sampler_module.cgroup_pids(root, 1, UNIT_CGROUP) == {21, 22}
    assert sampler_module.cgroup_memory(root, 1, UNIT_CGROUP) == (52428800, 62914560)
    assert sampler_module.cgroup_cpu_seconds(root, 1, UNIT_CGROUP) == 1.5


def test_cgroup_v2_without_memory_peak(tmp_path: Path) -> None:
    fake_v2(tmp_path, [os.getpid()])
    (tmp_path / UNIT_CGROUP.strip("/") / "memory.peak").unlink()  # kernel < 5.19
    sampler = sampler_module.build_sampler([], [UNIT_CGROUP], [], 50, str(tmp_path))
    sampler.run(0.1)
    result = sampler.result()
    assert result["cgroup_memory_bytes"]["peak"] is None
    assert result["cgroup_memory_bytes"]["max_sampled"] == 73400320
    assert any("no cgroup peak" in note for note in result["notes"])


@pytest.mark.parametrize("version", [1, 2])
def test_unit_path_with_faked_systemctl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: int
) -> None:
    (fake_v2 if version == 2 else fake_v1)(tmp_path, [os.getpid()])
    cpu_nsec = iter(["3000000000", "3000000000", "3400000000"])  # probe, start, end

    def fake_show(unit: str, prop: str) -> str:
        assert unit == "app.service"
        return UNIT_CGROUP if prop == "ControlGroup" else next(cpu_nsec)

    monkeypatch.setattr(sampler_module, "systemctl_show", fake_show)
    sampler = sampler_module.build_sampler(["app.service"], [], [], 50, str(tmp_path))
    sampler.run(0.1)
    result = sampler.result()
    assert result["targets"] == ["unit:app.service"]
    assert result["cgroup_version"] == version
    assert result["cpu_source"] == "CPUUsageNSec"
    assert result["server_cpu_seconds"] == pytest.approx(0.4)
    assert result["processes_max"] == 1  # this test process, listed in the fake cgroup
    assert result["pss_bytes"]["peak"] > 0
    expected_peak = 104857600 if version == 2 else 62914560
    assert result["cgroup_memory_bytes"]["peak"] == expected_peak


def fake_unit_without_cpu_accounting(monkeypatch: pytest.MonkeyPatch) -> None:
    """systemctl show: the unit lives in UNIT_CGROUP and its CPUUsageNSec is unset."""
    unset = str(sampler_module.UNSET_NSEC)
    monkeypatch.setattr(
        sampler_module,
        "systemctl_show",
        lambda unit, prop: UNIT_CGROUP if prop == "ControlGroup" else unset,
    )


def test_unit_without_cpu_accounting_reads_the_cgroup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_v2(tmp_path, [os.getpid()])
    fake_unit_without_cpu_accounting(monkeypatch)
    sampler = sampler_module.build_sampler(["app.service"], [], [], 50, str(tmp_path))
    assert sampler.targets[0].cpu_source == "cpu.stat usage_usec"


def test_cgroup_v1_without_cpu_accounting_group_reads_the_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in the lab's containers: cpu and cpuacct mounted apart, no cpuacct group per unit."""
    fake_v1(tmp_path, [os.getpid()])
    (tmp_path / "cpu,cpuacct" / UNIT_CGROUP.strip("/") / "cpuacct.usage").unlink()
    fake_unit_without_cpu_accounting(monkeypatch)
    sampler = sampler_module.build_sampler(["app.service"], [], [], 50, str(tmp_path))
    assert sampler.targets[0].cpu_source == "/proc/PID/stat"
    sampling = threading.Thread(target=sampler.run, args=(0.6,))
    sampling.start()
    started = time.process_time()
    while time.process_time() - started < 0.2:  # this process is the unit: make it use CPU
        pass
    sampling.join()
    result = sampler.result()
    assert result["server_cpu_seconds"] is not None
    assert result["server_cpu_seconds"] > 0


def test_stopped_unit_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_v2(tmp_path, [1])
    monkeypatch.setattr(
        sampler_module,
        "systemctl_show",
        lambda unit, prop: "" if prop == "ControlGroup" else "inactive",
    )
    with pytest.raises(sampler_module.SamplerError, match="no control group"):
        sampler_module.build_sampler(["app.service"], [], [], 50, str(tmp_path))


@pytest.mark.skipif(
    not Path("/sys/fs/cgroup/memory/memory.usage_in_bytes").exists(),
    reason="this host has no cgroup v1 memory hierarchy",
)
def test_real_cgroup_v1_root() -> None:
    """On the cgroup v1 build machines: read the real hierarchy through --cgroup /."""
    completed = run_target_script("sample_resources.py", "--cgroup", "/", "--duration", "0.2")
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["cgroup_version"] == 1
    assert result["cgroup_memory_bytes"]["max_sampled"] > 0
    assert result["server_cpu_seconds"] is not None


def test_cpu_read_failure_becomes_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_v2(tmp_path, [os.getpid()])
    answers = iter(["1000", "1000"])  # construction probe and start; the end read fails

    def flaky_show(unit: str, prop: str) -> str:
        if prop == "ControlGroup":
            return UNIT_CGROUP
        try:
            return next(answers)
        except StopIteration:
            raise sampler_module.SamplerError("systemctl show app.service: bus gone") from None

    monkeypatch.setattr(sampler_module, "systemctl_show", flaky_show)
    sampler = sampler_module.build_sampler(["app.service"], [], [], 50, str(tmp_path))
    sampler.run(0.1)
    result = sampler.result()
    assert result["server_cpu_seconds"] is None
    assert any("bus gone" in note for note in result["notes"])
    assert result["samples"] >= 1
