"""Typed views of the JSON documents (SCHEMA.md is the prose twin of this module).

Parsing is strict where a wrong value would corrupt a ranking and every error names the file
and the field (jsonfields.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from benchreport.config import Config
from benchreport.header import labels_and_round, parse_config, top_level
from benchreport.jsonfields import (
    Ctx,
    JsonObject,
    num_list,
    opt_int,
    opt_list,
    opt_num,
    opt_obj,
    opt_str,
    positive,
    req_int,
    req_num,
    req_obj,
    req_str,
    str_map,
)
from benchreport.sweep_files import (
    Ceiling,
    RatesFile,
    Timing,
    Topology,
    parse_ceiling,
    parse_rates,
    parse_timing,
    parse_topology,
)

# ---------------------------------------------------------------------------------------------
# Run file


@dataclass(frozen=True)
class Latency:
    """wrk's latency distribution, microseconds; None when no request completed."""

    min_us: float | None
    mean_us: float | None
    stdev_us: float | None
    max_us: float | None
    p50_us: float | None
    p75_us: float | None
    p90_us: float | None
    p99_us: float | None
    p99_9_us: float | None


@dataclass(frozen=True)
class WrkErrors:
    connect: int
    read: int
    write: int
    status: int
    timeout: int

    @property
    def total(self) -> int:
        return self.connect + self.read + self.write + self.status + self.timeout

    @property
    def failed_attempts(self) -> int:
        """Attempts that never completed, so are not in wrk's request count."""
        return self.connect + self.read + self.write


ERROR_KINDS = ("connect", "read", "write", "status", "timeout")


@dataclass(frozen=True)
class HeaderCounts:
    """The answers of a run counted by one response header's value (wrk_json.lua with
    WRK_COUNT_HEADER), e.g. X-Served-By: the app host (host:port) a proxy chose."""

    header: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_us: int
    bytes: int
    rps: float
    latency: Latency
    errors: WrkErrors
    header_counts: HeaderCounts | None = None

    @property
    def error_rate(self) -> float:
        """Errors of every kind over attempts (completed requests + failed attempts), capped
        at 1; a run that completed nothing counts as 100 % errors."""
        if self.requests == 0:
            return 1.0
        attempts = self.requests + self.errors.failed_attempts
        return min(1.0, self.errors.total / attempts)


@dataclass(frozen=True)
class LoadSettings:
    url: str
    threads: int
    connections: int
    duration_s: int
    timeout_s: float | None
    client_cpus: str | None

    def describe(self) -> str:
        text = f"wrk -t{self.threads} -c{self.connections} -d{self.duration_s}s"
        if self.timeout_s is not None:
            text += f" --timeout {self.timeout_s:g}s"
        if self.client_cpus:
            text += f" (pinned to CPUs {self.client_cpus})"
        return text


@dataclass(frozen=True)
class Resources:
    """Server memory and CPU sampled during the run; bytes and seconds."""

    samples: int
    pss_start_bytes: int | None
    pss_mean_bytes: int | None
    pss_peak_bytes: int | None
    rss_peak_bytes: int | None
    cgroup_max_sampled_bytes: int | None
    cgroup_peak_bytes: int | None
    server_cpu_s: float | None
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Fairness:
    connections: int
    opened: int
    answered_connections: int
    answered_fraction: float
    answers_total: int
    answers_min: int
    answers_p50: int
    answers_max: int
    answers_cv: float | None
    answers_gini: float
    non_2xx: int
    phase: str


@dataclass(frozen=True)
class Run:
    source: str
    config: Config
    endpoint: str
    round: int
    extra: dict[str, str | None]
    started_at: str
    load: LoadSettings
    wrk: WrkResult
    client_cpu_s: float | None
    host_cpus: int | None
    resources: Resources | None
    fairness: Fairness | None
    document: JsonObject = field(repr=False, compare=False)

    @property
    def key(self) -> tuple[Config, str]:
        """What the rounds of one measurement share: the config and the endpoint."""
        return (self.config, self.endpoint)


def parse_run(json_value: object, source: str) -> Run:
    document, ctx = top_level(json_value, source, "run")
    labels, labels_ctx, round_number = labels_and_round(document, ctx)

    client = opt_obj(document, "client", ctx) or {}
    resources_doc = opt_obj(document, "resources", ctx)
    fairness_doc = opt_obj(document, "fairness", ctx)
    extra = str_map(labels, "extra", labels_ctx)
    return Run(
        source=source,
        config=parse_config(labels, labels_ctx),
        endpoint=req_str(labels, "endpoint", labels_ctx),
        round=round_number,
        extra=extra,
        started_at=req_str(document, "started_at", ctx),
        load=parse_load(req_obj(document, "load", ctx), ctx.child("load")),
        wrk=parse_wrk(req_obj(document, "wrk", ctx), ctx.child("wrk")),
        client_cpu_s=opt_num(client, "cpu_s", ctx.child("client")),
        host_cpus=opt_int(document, "host_cpus", ctx),
        resources=parse_resources(resources_doc, ctx.child("resources")) if resources_doc else None,
        fairness=parse_fairness(fairness_doc, ctx.child("fairness")) if fairness_doc else None,
        document=document,
    )


def parse_load(doc: JsonObject, ctx: Ctx) -> LoadSettings:
    return LoadSettings(
        url=req_str(doc, "url", ctx),
        threads=req_int(doc, "threads", ctx),
        connections=req_int(doc, "connections", ctx),
        duration_s=req_int(doc, "duration_s", ctx),
        timeout_s=opt_num(doc, "timeout_s", ctx),
        client_cpus=opt_str(doc, "client_cpus", ctx) or None,
    )


def parse_wrk(doc: JsonObject, ctx: Ctx) -> WrkResult:
    latency_ctx = ctx.child("latency_us")
    latency_doc = req_obj(doc, "latency_us", ctx)
    errors_ctx = ctx.child("errors")
    errors_doc = req_obj(doc, "errors", ctx)
    requests = req_int(doc, "requests", ctx)
    rps = opt_num(doc, "rps", ctx)
    return WrkResult(
        requests=requests,
        duration_us=req_int(doc, "duration_us", ctx),
        bytes=req_int(doc, "bytes", ctx),
        rps=rps if rps is not None else 0.0,
        latency=Latency(
            **{
                f"{name}_us": opt_num(latency_doc, name, latency_ctx)
                for name in ("min", "mean", "stdev", "max", "p50", "p75", "p90", "p99", "p99_9")
            }
        ),
        errors=WrkErrors(**{kind: req_int(errors_doc, kind, errors_ctx) for kind in ERROR_KINDS}),
        header_counts=parse_header_counts(doc, ctx),
    )


def parse_header_counts(doc: JsonObject, ctx: Ctx) -> HeaderCounts | None:
    """wrk's ``header_counts`` when the run counted answers by a header; each count an integer
    >= 0, and together no more than the completed requests."""
    counted = opt_obj(doc, "header_counts", ctx)
    if counted is None:
        return None
    counted_ctx = ctx.child("header_counts")
    counts_ctx = counted_ctx.child("counts")
    counts_doc = req_obj(counted, "counts", counted_ctx)
    counts = {value: req_int(counts_doc, value, counts_ctx) for value in counts_doc}
    negative = sorted(value for value, count in counts.items() if count < 0)
    if negative:
        raise counts_ctx.child(negative[0]).error(f"expected >= 0, got {counts[negative[0]]}")
    requests = req_int(doc, "requests", ctx)
    if sum(counts.values()) > requests:
        raise counts_ctx.error(
            f"the counts add up to {sum(counts.values())}, more than the {requests} requests"
        )
    return HeaderCounts(header=req_str(counted, "header", counted_ctx), counts=counts)


def _opt_int_in(doc: JsonObject, key: str, inner: str, ctx: Ctx) -> int | None:
    sub = opt_obj(doc, key, ctx)
    return opt_int(sub, inner, ctx.child(key)) if sub else None


def parse_resources(doc: JsonObject, ctx: Ctx) -> Resources:
    notes = doc.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(note, str) for note in notes):
        raise ctx.child("notes").error(f"expected a list of strings, got {notes!r}")
    return Resources(
        samples=req_int(doc, "samples", ctx),
        pss_start_bytes=_opt_int_in(doc, "pss_bytes", "start", ctx),
        pss_mean_bytes=_opt_int_in(doc, "pss_bytes", "mean", ctx),
        pss_peak_bytes=_opt_int_in(doc, "pss_bytes", "peak", ctx),
        rss_peak_bytes=_opt_int_in(doc, "rss_bytes", "peak", ctx),
        cgroup_max_sampled_bytes=_opt_int_in(doc, "cgroup_memory_bytes", "max_sampled", ctx),
        cgroup_peak_bytes=_opt_int_in(doc, "cgroup_memory_bytes", "peak", ctx),
        server_cpu_s=opt_num(doc, "server_cpu_seconds", ctx),
        notes=tuple(notes),
    )


def parse_fairness(doc: JsonObject, ctx: Ctx) -> Fairness:
    answers_ctx = ctx.child("answers")
    answers = req_obj(doc, "answers", ctx)
    fraction = req_num(doc, "answered_fraction", ctx)
    if not 0.0 <= fraction <= 1.0:
        raise ctx.child("answered_fraction").error(f"expected 0..1, got {fraction}")

    def answer_count(key: str) -> int:
        return req_int(answers, key, answers_ctx)

    return Fairness(
        connections=req_int(doc, "connections", ctx),
        opened=req_int(doc, "opened", ctx),
        answered_connections=req_int(doc, "answered_connections", ctx),
        answered_fraction=fraction,
        answers_total=answer_count("total"),
        answers_min=answer_count("min"),
        answers_p50=answer_count("p50"),
        answers_max=answer_count("max"),
        answers_cv=opt_num(answers, "cv", answers_ctx),
        answers_gini=req_num(answers, "gini", answers_ctx),
        non_2xx=req_int(doc, "non_2xx", ctx),
        phase=opt_str(doc, "phase", ctx) or "after",
    )


# ---------------------------------------------------------------------------------------------
# Host facts and versions (written by the playbook), and the combined results


@dataclass(frozen=True)
class HostFacts:
    hostname: str
    cpu_model: str
    vcpus: int
    memory_bytes: int
    kernel: str
    os: str
    extra: dict[str, str | None]


@dataclass(frozen=True)
class Versions:
    python: str
    django: str
    wrk: str
    servers: dict[str, str | None]
    packages: dict[str, str | None]


def parse_host(json_value: object, source: str) -> HostFacts:
    document, ctx = top_level(json_value, source)
    vcpus = req_int(document, "vcpus", ctx)
    if vcpus < 1:
        raise ctx.child("vcpus").error(f"expected >= 1, got {vcpus}")
    return HostFacts(
        hostname=opt_str(document, "hostname", ctx) or "",
        cpu_model=req_str(document, "cpu_model", ctx),
        vcpus=vcpus,
        memory_bytes=req_int(document, "memory_bytes", ctx),
        kernel=req_str(document, "kernel", ctx),
        os=req_str(document, "os", ctx),
        extra=str_map(document, "extra", ctx),
    )


def parse_versions(json_value: object, source: str) -> Versions:
    document, ctx = top_level(json_value, source)
    versions = Versions(
        python=req_str(document, "python", ctx),
        django=req_str(document, "django", ctx),
        wrk=req_str(document, "wrk", ctx),
        servers=str_map(document, "servers", ctx),
        packages=str_map(document, "packages", ctx),
    )
    if not versions.servers:
        raise ctx.child("servers").error("expected at least one server package version")
    return versions


@dataclass(frozen=True)
class Thresholds:
    """What disqualifies a config from the ranking."""

    min_answered_fraction: float = 1.0
    max_error_rate: float = 0.01

    def to_json(self) -> JsonObject:
        return {
            "min_answered_fraction": self.min_answered_fraction,
            "max_error_rate": self.max_error_rate,
        }


def parse_thresholds(doc: JsonObject, ctx: Ctx) -> Thresholds:
    thresholds = Thresholds(
        min_answered_fraction=req_num(doc, "min_answered_fraction", ctx),
        max_error_rate=req_num(doc, "max_error_rate", ctx),
    )
    validate_thresholds(thresholds, ctx)
    return thresholds


def validate_thresholds(thresholds: Thresholds, ctx: Ctx) -> None:
    if not 0.0 <= thresholds.min_answered_fraction <= 1.0:
        raise ctx.child("min_answered_fraction").error(
            f"expected 0..1, got {thresholds.min_answered_fraction}"
        )
    if not 0.0 <= thresholds.max_error_rate <= 1.0:
        raise ctx.child("max_error_rate").error(f"expected 0..1, got {thresholds.max_error_rate}")


# The app the sweep deployed (sweep.json app_profile): "lean" is today's app, "study" adds the
# middleware and context processors of a DjangoStarter-like project, as the study measured.
APP_PROFILES = ("lean", "study")


@dataclass(frozen=True)
class Sweep:
    """What the playbook was asked to run (sweep.json): how to run it again, from which commit,
    with which app, and which fixed rates against which latency objective."""

    command: str
    project_commit: str
    app_profile: str | None = None
    slo_ms: float | None = None
    rate_fractions: tuple[float, ...] | None = None
    knee_fractions: tuple[float, ...] | None = None
    rates: tuple[float, ...] | None = None
    rate_descent: int | None = None


def parse_sweep(doc: JsonObject, ctx: Ctx) -> Sweep:
    app_profile = opt_str(doc, "app_profile", ctx)
    if app_profile is not None and app_profile not in APP_PROFILES:
        raise ctx.child("app_profile").error(
            f"expected one of {', '.join(APP_PROFILES)}, got {app_profile!r}"
        )
    slo_ms = opt_num(doc, "benchmark_slo_ms", ctx)
    return Sweep(
        command=req_str(doc, "command", ctx),
        project_commit=req_str(doc, "project_commit", ctx),
        app_profile=app_profile,
        slo_ms=None if slo_ms is None else positive(slo_ms, ctx.child("benchmark_slo_ms")),
        rate_fractions=num_list(doc, "benchmark_rate_fractions", ctx),
        knee_fractions=num_list(doc, "benchmark_knee_fractions", ctx),
        rates=num_list(doc, "benchmark_rates", ctx),
        rate_descent=opt_int(doc, "benchmark_rate_descent", ctx),
    )


@dataclass(frozen=True)
class ResultSet:
    """A combined results.json: one benchmark sweep on one host."""

    source: str
    label: str
    created_at: str
    host: HostFacts
    versions: Versions
    thresholds: Thresholds
    runs: tuple[Run, ...]
    sweep: Sweep | None = None
    # Benchmark 2.0's files, absent from older folders (sweep_files.py).
    rates: tuple[RatesFile, ...] = ()
    ceiling: Ceiling | None = None
    timing: Timing | None = None
    topology: Topology | None = None

    @property
    def directory(self) -> Path:
        """The results folder this set was read from (the folder of its results.json)."""
        return Path(self.source).parent


def parse_results(json_value: object, source: str) -> ResultSet:
    document, ctx = top_level(json_value, source, "results")
    runs_doc = document.get("runs")
    if not isinstance(runs_doc, list) or not runs_doc:
        raise ctx.child("runs").error("expected a non-empty list of runs")
    runs = []
    for index, run_doc in enumerate(runs_doc):
        name = run_doc.get("file", f"runs[{index}]") if isinstance(run_doc, dict) else index
        runs.append(parse_run(run_doc, f"{source} (run {name})"))
    sweep_doc = opt_obj(document, "sweep", ctx)
    rates = []
    for index, rates_doc in enumerate(opt_list(document, "rates", ctx)):
        name = rates_doc.get("file", f"rates[{index}]") if isinstance(rates_doc, dict) else index
        rates.append(parse_rates(rates_doc, f"{source} (rates {name})"))
    ceiling_doc = opt_obj(document, "ceiling", ctx)
    timing_doc = opt_obj(document, "timing", ctx)
    topology_doc = opt_obj(document, "topology", ctx)
    return ResultSet(
        source=source,
        label=req_str(document, "label", ctx),
        created_at=req_str(document, "created_at", ctx),
        host=parse_host(req_obj(document, "host", ctx), f"{source} (host)"),
        versions=parse_versions(req_obj(document, "versions", ctx), f"{source} (versions)"),
        thresholds=parse_thresholds(req_obj(document, "thresholds", ctx), ctx.child("thresholds")),
        runs=tuple(runs),
        sweep=parse_sweep(sweep_doc, ctx.child("sweep")) if sweep_doc else None,
        rates=tuple(rates),
        ceiling=parse_ceiling(ceiling_doc, f"{source} (ceiling)") if ceiling_doc else None,
        timing=parse_timing(timing_doc, f"{source} (timing)") if timing_doc else None,
        topology=parse_topology(topology_doc, f"{source} (topology)") if topology_doc else None,
    )
