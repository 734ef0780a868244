#!/usr/bin/env python3
"""Sample an app server's memory and CPU while it is under load.

Stdlib only (runs on the target with Debian 12's python3); run as root, because reading
another user's /proc/PID/smaps_rollup needs ptrace rights.

What is sampled, every --interval-ms, summed over every process of the target:
- PSS from /proc/PID/smaps_rollup (shared pages divided among the processes sharing them: the
  honest per-server figure);
- RSS from the same file (what the study summed: forked workers' shared pages counted once per
  worker), kept to show the size of that error;
- the cgroup's charged memory (v2 memory.current, v1 memory.usage_in_bytes), and once at the
  end the cgroup's peak (v2 memory.peak, v1 memory.max_usage_in_bytes).
CPU seconds used by the target are read at start and at end.

Targets (several of a kind are summed, e.g. Daphne's N instances):
- --unit NAME: a systemd unit; its cgroup comes from `systemctl show -p ControlGroup`, its CPU
  from `systemctl show -p CPUUsageNSec` (the cgroup's cpu.stat / cpuacct.usage when the unit's
  CPU accounting is off);
- --cgroup PATH: a cgroup path as systemd prints it (e.g. /system.slice/x.service);
- --pid PID: a process and its descendants, for hosts without systemd (no cgroup figures;
  CPU from /proc/PID/stat, so a process that exits mid-run takes its CPU time with it).
Both cgroup v2 (unified) and v1 (memory, cpuacct and name=systemd hierarchies) are handled.

Stops when --duration elapses, when --stop-file appears, or on SIGTERM/SIGINT, and then writes
one JSON object (see benchreport/SCHEMA.md, "resources"). Needs fairness_probe.py in the same
directory (its JSON writer).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import fairness_probe

CGROUP_ROOT = "/sys/fs/cgroup"
PROC_ROOT = "/proc"
MAX_DURATION_S = 3600.0
UNSET_NSEC = 2**64 - 1  # systemd's "no value" for CPUUsageNSec


class SamplerError(Exception):
    """A target that cannot be sampled (unknown unit, missing process, bad arguments)."""


# ---------------------------------------------------------------------------------------------
# Low-level readers


def read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
        return None


def read_int(path: str) -> int | None:
    text = read_text(path)
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isdigit() else None


def read_process_memory(pid: int, proc_root: str = PROC_ROOT) -> tuple[int, int] | None:
    """(pss_bytes, rss_bytes) of one process from smaps_rollup; None if it has gone.

    Raises PermissionError when not allowed to read it (not root)."""
    text = read_text(f"{proc_root}/{pid}/smaps_rollup")
    if text is None:
        return None
    pss = rss = 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            pss = int(line.split()[1]) * 1024
        elif line.startswith("Rss:"):
            rss = int(line.split()[1]) * 1024
    return pss, rss


def read_process_cpu_seconds(pid: int, proc_root: str = PROC_ROOT) -> float | None:
    """utime + stime + cutime + cstime of a process (its reaped children included)."""
    text = read_text(f"{proc_root}/{pid}/stat")
    if text is None:
        return None
    # The command name may contain spaces and parentheses: split after the last ')'.
    fields = text[text.rindex(")") + 2 :].split()
    ticks = sum(int(value) for value in fields[11:15])  # stat fields 14-17
    return ticks / os.sysconf("SC_CLK_TCK")


def sum_process_cpu_seconds(pids: set[int], proc_root: str = PROC_ROOT) -> float:
    """CPU seconds of the processes that still exist (a process gone mid-read counts 0)."""
    values = [read_process_cpu_seconds(pid, proc_root) for pid in pids]
    return sum(value for value in values if value is not None)


def process_tree(roots: list[int], proc_root: str = PROC_ROOT) -> set[int]:
    """The root PIDs that still exist and all their descendants."""
    children: dict[int, list[int]] = {}
    alive: set[int] = set()
    for entry in os.listdir(proc_root):
        if not entry.isdigit():
            continue
        text = read_text(f"{proc_root}/{entry}/stat")
        if text is None:
            continue
        parent = int(text[text.rindex(")") + 2 :].split()[1])
        alive.add(int(entry))
        children.setdefault(parent, []).append(int(entry))
    found: set[int] = set()
    pending = [pid for pid in roots if pid in alive]
    while pending:
        pid = pending.pop()
        if pid not in found:
            found.add(pid)
            pending.extend(children.get(pid, []))
    return found


def detect_cgroup_version(cgroup_root: str = CGROUP_ROOT) -> int:
    """2 when the unified hierarchy is mounted at the root, else 1 (legacy or hybrid)."""
    return 2 if os.path.exists(os.path.join(cgroup_root, "cgroup.controllers")) else 1


def cgroup_dir(cgroup_root: str, hierarchy: str | None, cgroup: str) -> str:
    parts = [cgroup_root] + ([hierarchy] if hierarchy else []) + [cgroup.strip("/")]
    return os.path.join(*parts).rstrip("/")


def cgroup_pids(cgroup_root: str, version: int, cgroup: str) -> set[int]:
    """PIDs in a cgroup and its sub-cgroups (v1: from the name=systemd hierarchy)."""
    top = cgroup_dir(cgroup_root, None if version == 2 else "systemd", cgroup)
    pids: set[int] = set()
    for directory, _, files in os.walk(top):
        if "cgroup.procs" in files:
            text = read_text(os.path.join(directory, "cgroup.procs")) or ""
            pids.update(int(line) for line in text.split() if line.isdigit())
    return pids


def cgroup_memory(cgroup_root: str, version: int, cgroup: str) -> tuple[int | None, int | None]:
    """(current_bytes, peak_bytes); None for what the kernel or the unit does not provide."""
    if version == 2:
        directory = cgroup_dir(cgroup_root, None, cgroup)
        return (
            read_int(os.path.join(directory, "memory.current")),
            read_int(os.path.join(directory, "memory.peak")),  # kernel >= 5.19
        )
    directory = cgroup_dir(cgroup_root, "memory", cgroup)
    return (
        read_int(os.path.join(directory, "memory.usage_in_bytes")),
        read_int(os.path.join(directory, "memory.max_usage_in_bytes")),
    )


def cgroup_cpu_seconds(cgroup_root: str, version: int, cgroup: str) -> float | None:
    if version == 2:
        text = read_text(os.path.join(cgroup_dir(cgroup_root, None, cgroup), "cpu.stat"))
        for line in (text or "").splitlines():
            name, _, value = line.partition(" ")
            if name == "usage_usec":
                return int(value) / 1e6
        return None
    for hierarchy in ("cpuacct", "cpu,cpuacct"):
        nanoseconds = read_int(
            os.path.join(cgroup_dir(cgroup_root, hierarchy, cgroup), "cpuacct.usage")
        )
        if nanoseconds is not None:
            return nanoseconds / 1e9
    return None


def systemctl_show(unit: str, prop: str) -> str:
    try:
        completed = subprocess.run(
            ["systemctl", "show", "-p", prop, "--value", unit],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except FileNotFoundError as error:
        raise SamplerError("systemctl not found: use --pid on a host without systemd") from error
    if completed.returncode != 0:
        raise SamplerError(f"systemctl show {unit}: {completed.stderr.strip()}")
    return completed.stdout.strip()


# ---------------------------------------------------------------------------------------------
# Targets


@dataclass
class Target:
    """One thing to sample: its processes, its cgroup (if any) and its CPU clock."""

    label: str
    pids: Callable[[], set[int]]
    memory: Callable[[], tuple[int | None, int | None]] | None
    cpu_seconds: Callable[[], float | None]
    cpu_source: str


def unit_target(unit: str, cgroup_root: str, version: int) -> Target:
    control_group = systemctl_show(unit, "ControlGroup")
    if not control_group:
        state = systemctl_show(unit, "ActiveState")
        raise SamplerError(f"unit {unit} has no control group (ActiveState={state or 'unknown'})")
    cgroup = cgroup_target(control_group, cgroup_root, version)

    def accounted_cpu() -> float | None:
        value = systemctl_show(unit, "CPUUsageNSec")
        if value.isdigit() and int(value) != UNSET_NSEC:
            return int(value) / 1e9
        return None  # CPUAccounting is off for this unit

    if accounted_cpu() is not None:
        return Target(f"unit:{unit}", cgroup.pids, cgroup.memory, accounted_cpu, "CPUUsageNSec")
    return Target(f"unit:{unit}", cgroup.pids, cgroup.memory, cgroup.cpu_seconds, cgroup.cpu_source)


def cgroup_target(cgroup: str, cgroup_root: str, version: int) -> Target:
    pid_dir = cgroup_dir(cgroup_root, None if version == 2 else "systemd", cgroup)
    if not os.path.isdir(pid_dir):
        raise SamplerError(f"cgroup {cgroup} not found at {pid_dir}")

    def pids() -> set[int]:
        return cgroup_pids(cgroup_root, version, cgroup)

    def cgroup_cpu() -> float | None:
        return cgroup_cpu_seconds(cgroup_root, version, cgroup)

    def processes_cpu() -> float | None:
        return sum_process_cpu_seconds(pids())

    def memory() -> tuple[int | None, int | None]:
        return cgroup_memory(cgroup_root, version, cgroup)

    if cgroup_cpu() is not None:
        source = "cpu.stat usage_usec" if version == 2 else "cpuacct.usage"
        return Target(f"cgroup:{cgroup}", pids, memory, cgroup_cpu, source)
    # cgroup v1 without a CPU accounting group for this cgroup (accounting off, or cpu and
    # cpuacct mounted apart, where systemd cannot read it either): its processes' own clocks.
    return Target(f"cgroup:{cgroup}", pids, memory, processes_cpu, "/proc/PID/stat")


def pid_target(pid: int, proc_root: str = PROC_ROOT) -> Target:
    if not os.path.exists(f"{proc_root}/{pid}"):
        raise SamplerError(f"process {pid} does not exist")

    def tree_cpu() -> float | None:
        return sum_process_cpu_seconds(pids(), proc_root)

    def pids() -> set[int]:
        return process_tree([pid], proc_root)

    return Target(f"pid:{pid}", pids, None, tree_cpu, "/proc/PID/stat")


# ---------------------------------------------------------------------------------------------
# Sampling


@dataclass
class Sampler:
    targets: list[Target]
    interval_s: float = 0.2
    cgroup_version: int | None = None
    notes: list[str] = field(default_factory=list)
    timeline: dict[str, list[float | int | None]] = field(
        default_factory=lambda: {
            "t_s": [],
            "pss_bytes": [],
            "rss_bytes": [],
            "cgroup_current_bytes": [],
            "processes": [],
        }
    )
    cpu_start: list[float | None] = field(default_factory=list)
    cpu_end: list[float | None] = field(default_factory=list)
    started: float = 0.0
    elapsed_s: float = 0.0
    _note_set: set[str] = field(default_factory=set)

    def note(self, text: str) -> None:
        if text not in self._note_set:
            self._note_set.add(text)
            self.notes.append(text)

    def sample_once(self) -> None:
        pss_total = rss_total = processes = 0
        cgroup_total: int | None = 0
        for target in self.targets:
            for pid in sorted(target.pids()):
                try:
                    memory = read_process_memory(pid)
                except PermissionError:
                    self.note(f"no permission to read /proc/{pid}/smaps_rollup: run as root")
                    continue
                if memory is not None:
                    pss_total += memory[0]
                    rss_total += memory[1]
                    processes += 1
            if target.memory is None:
                cgroup_total = None
            elif cgroup_total is not None:
                current, _ = target.memory()
                if current is None:
                    self.note(f"{target.label}: no cgroup memory counter (accounting off?)")
                    cgroup_total = None
                else:
                    cgroup_total += current
        self.timeline["t_s"].append(round(time.monotonic() - self.started, 3))
        self.timeline["pss_bytes"].append(pss_total)
        self.timeline["rss_bytes"].append(rss_total)
        self.timeline["cgroup_current_bytes"].append(cgroup_total)
        self.timeline["processes"].append(processes)
        if processes == 0:
            self.note("a sample found no process of the target (server down?)")

    def read_cpu(self) -> list[float | None]:
        values: list[float | None] = []
        for target in self.targets:
            try:
                values.append(target.cpu_seconds())
            except (SamplerError, OSError) as error:
                self.note(f"{target.label}: CPU time unreadable: {error}")
                values.append(None)
        return values

    def run(
        self,
        duration_s: float,
        stop_event: threading.Event | None = None,
        stop_file: str | None = None,
        ready: threading.Event | None = None,
    ) -> None:
        """Sample until the duration elapses, the event is set or the stop file appears.
        ``ready`` is set once the first sample (the server before the load) is taken."""
        stop_event = stop_event or threading.Event()
        self.started = time.monotonic()
        self.cpu_start = self.read_cpu()
        deadline = self.started + min(duration_s, MAX_DURATION_S)
        while True:
            self.sample_once()
            if ready is not None:
                ready.set()
            if stop_file and os.path.exists(stop_file):
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0 or stop_event.wait(min(self.interval_s, remaining)):
                break
        self.cpu_end = self.read_cpu()
        self.elapsed_s = time.monotonic() - self.started
        if not self.timeline["t_s"] or self.timeline["t_s"][-1] < self.elapsed_s - 0.05:
            self.sample_once()

    def result(self) -> dict[str, object]:
        pss = [value for value in self.timeline["pss_bytes"] if value is not None]
        rss = [value for value in self.timeline["rss_bytes"] if value is not None]
        currents = [v for v in self.timeline["cgroup_current_bytes"] if v is not None]
        peaks: list[int] = []
        for target in self.targets:
            if target.memory is not None:
                peak = target.memory()[1]
                if peak is None:
                    self.note(f"{target.label}: no cgroup peak counter (kernel < 5.19?)")
                else:
                    peaks.append(peak)
        memory_targets = [target for target in self.targets if target.memory is not None]
        cpu_used: float | None = None
        deltas = [
            end - start
            for start, end in zip(self.cpu_start, self.cpu_end, strict=False)
            if start is not None and end is not None
        ]
        if len(deltas) == len(self.targets):
            cpu_used = sum(deltas)
        else:
            self.note("CPU time of a target could not be read")
        return {
            "format": "resources/1",
            "targets": [target.label for target in self.targets],
            "cgroup_version": self.cgroup_version,
            "interval_ms": round(self.interval_s * 1000),
            "samples": len(self.timeline["t_s"]),
            "elapsed_s": round(self.elapsed_s, 3),
            "pss_bytes": summary(pss),
            "rss_bytes": summary(rss),
            "processes_max": max(self.timeline["processes"], default=0),
            "cgroup_memory_bytes": {
                "start": currents[0] if currents else None,
                "end": currents[-1] if currents else None,
                "max_sampled": max(currents) if currents else None,
                "peak": sum(peaks)
                if memory_targets and len(peaks) == len(memory_targets)
                else None,
            },
            "server_cpu_seconds": round(cpu_used, 3) if cpu_used is not None else None,
            "cpu_source": ",".join(sorted({target.cpu_source for target in self.targets})),
            "notes": self.notes,
            "timeline": self.timeline,
        }


def summary(values: list[int]) -> dict[str, int | None]:
    if not values:
        return {"start": None, "mean": None, "peak": None}
    return {"start": values[0], "mean": round(sum(values) / len(values)), "peak": max(values)}


def build_sampler(
    units: list[str],
    cgroups: list[str],
    pids: list[int],
    interval_ms: int,
    cgroup_root: str = CGROUP_ROOT,
) -> Sampler:
    if not (units or cgroups or pids):
        raise SamplerError("give at least one --unit, --cgroup or --pid")
    if interval_ms < 10:
        raise SamplerError(f"--interval-ms must be >= 10, got {interval_ms}")
    version = detect_cgroup_version(cgroup_root) if (units or cgroups) else None
    targets = [unit_target(unit, cgroup_root, version or 2) for unit in units]
    targets += [cgroup_target(cgroup, cgroup_root, version or 2) for cgroup in cgroups]
    targets += [pid_target(pid) for pid in pids]
    return Sampler(targets=targets, interval_s=interval_ms / 1000, cgroup_version=version)


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """The target options, shared with run_load.py."""
    parser.add_argument("--unit", action="append", default=[], help="systemd unit (repeatable)")
    parser.add_argument(
        "--cgroup", action="append", default=[], help="cgroup path, e.g. /system.slice/x.service"
    )
    parser.add_argument(
        "--pid", action="append", type=int, default=[], help="process tree root (repeatable)"
    )
    parser.add_argument("--interval-ms", type=int, default=200, help="sampling period (200)")
    parser.add_argument("--cgroup-root", default=CGROUP_ROOT, help=argparse.SUPPRESS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sample PSS, RSS, cgroup memory and CPU (JSON).")
    add_target_arguments(parser)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds, at most 3600 (60)")
    parser.add_argument("--stop-file", help="stop as soon as this file exists")
    parser.add_argument("--output", help="write the JSON here instead of stdout")
    args = parser.parse_args(argv)
    try:
        sampler = build_sampler(
            args.unit, args.cgroup, args.pid, args.interval_ms, args.cgroup_root
        )
    except SamplerError as error:
        print(f"sample_resources: {error}", file=sys.stderr)
        return 2
    stop_event = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop_event.set())
    sampler.run(args.duration, stop_event, args.stop_file)
    fairness_probe.write_json(sampler.result(), args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
