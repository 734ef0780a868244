"""The optional files of a results folder beside the closed-loop runs (SCHEMA.md): the
fixed-rate runs (``rates/*.json``), the app's own CPU cost (``ceiling.json``), where the
sweep's time went (``timing.json``) and who ran what (``topology.json``). Old folders have none
of them; when present they are read as strictly as run files, every error naming the file and
the field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from benchreport.config import Config
from benchreport.header import labels_and_round, parse_config, top_level
from benchreport.jsonfields import (
    Ctx,
    JsonObject,
    opt_int,
    opt_list,
    opt_num,
    opt_str,
    positive,
    req_int,
    req_list,
    req_num,
    req_num_or_null,
    req_obj,
    req_str,
)

# Every way a due request can fail to be answered; "unsent" = the client could not send it
# on time at all (it counts against the rate as much as a refused connection).
RATE_ERROR_KINDS = ("connect", "read", "write", "status", "timeout", "unsent")
# Why a rate was run: a fraction of the best server's maximum, of this config's own maximum,
# or an absolute rate the caller gave.
RATE_REASONS = ("common", "knee", "given", "descent")
LATENCY_KEYS = ("min", "mean", "p50", "p75", "p90", "p99", "p99_9", "max")
CEILING_FORMAT = "ceiling/1"
TIMING_FORMAT = "timing/1"
TOPOLOGY_FORMAT = "topology/1"
# A host's parts (the topology role's, and the load generator).
TOPOLOGY_PARTS = ("app", "db", "cache", "proxy", "loadgen")
TOPOLOGY_DATABASES = ("sqlite", "postgres")


@dataclass(frozen=True)
class RatePoint:
    """One fixed offered rate held for ``duration_s``; latency from each request's due time."""

    offered_rps: float
    reason: str
    duration_s: float
    connections: int
    scheduled: int
    sent: int
    completed: int
    achieved_rps: float
    errors: dict[str, int]
    p50_us: float | None
    p99_us: float | None  # from the due time (coordinated omission corrected)
    service_p99_us: float | None  # from the send time, what wrk would show
    max_send_lag_us: float | None

    @property
    def error_total(self) -> int:
        return sum(self.errors.values())

    def held(self, slo_ms: float) -> bool:
        """Every due request answered without an error, and p99 from due time within the SLO."""
        return (
            self.error_total == 0
            and self.completed == self.scheduled
            and self.p99_us is not None
            and self.p99_us <= slo_ms * 1000
        )


@dataclass(frozen=True)
class SkippedRate:
    """A rate asked for and not run: above the client's own ceiling, or above a rate the
    server already could not keep up with."""

    offered_rps: float
    why: str


@dataclass(frozen=True)
class RatesFile:
    """The fixed-rate runs of one config and endpoint."""

    source: str
    config: Config
    endpoint: str
    round: int
    slo_ms: float
    client_ceiling_rps: float | None  # the most the open-loop client itself can send
    points: tuple[RatePoint, ...]  # ascending offered rate; empty when none could be run
    skipped: tuple[SkippedRate, ...]
    document: JsonObject = field(repr=False, compare=False)

    @property
    def skipped_above_client(self) -> bool:
        """A rate was left out because the client itself could not offer it."""
        ceiling = self.client_ceiling_rps
        return ceiling is not None and any(item.offered_rps > ceiling for item in self.skipped)

    @property
    def key(self) -> tuple[Config, str]:
        return (self.config, self.endpoint)


def parse_rates(json_value: object, source: str) -> RatesFile:
    document, ctx = top_level(json_value, source, "rates")
    labels, labels_ctx, round_number = labels_and_round(document, ctx)
    req_str(document, "started_at", ctx)
    client_ctx = ctx.child("client")
    client = req_obj(document, "client", ctx)
    req_str(client, "tool", client_ctx)
    points = [
        parse_point(point, ctx.child("points").child(index))
        for index, point in enumerate(req_list(document, "points", ctx))
    ]
    skipped = [
        parse_skipped(item, ctx.child("skipped").child(index))
        for index, item in enumerate(opt_list(document, "skipped", ctx))
    ]
    return RatesFile(
        source=source,
        config=parse_config(labels, labels_ctx),
        endpoint=req_str(labels, "endpoint", labels_ctx),
        round=round_number,
        slo_ms=positive(req_num(document, "slo_ms", ctx), ctx.child("slo_ms")),
        client_ceiling_rps=req_num_or_null(client, "ceiling_rps", client_ctx),
        points=tuple(sorted(points, key=lambda point: point.offered_rps)),
        skipped=tuple(sorted(skipped, key=lambda item: item.offered_rps)),
        document=document,
    )


def parse_skipped(value: object, ctx: Ctx) -> SkippedRate:
    if not isinstance(value, dict):
        raise ctx.error(f"expected an object, got {value!r}")
    return SkippedRate(req_num(value, "offered_rps", ctx), opt_str(value, "why", ctx) or "")


def parse_point(value: object, ctx: Ctx) -> RatePoint:
    if not isinstance(value, dict):
        raise ctx.error(f"expected an object, got {value!r}")
    reason = req_str(value, "reason", ctx)
    if reason not in RATE_REASONS:
        raise ctx.child("reason").error(
            f"expected one of {', '.join(RATE_REASONS)}, got {reason!r}"
        )
    errors_ctx = ctx.child("errors")
    errors_doc = req_obj(value, "errors", ctx)
    latency_ctx = ctx.child("latency_us")
    latency = req_obj(value, "latency_us", ctx)
    service_ctx = ctx.child("service_latency_us")
    service = req_obj(value, "service_latency_us", ctx)
    for key in LATENCY_KEYS:
        req_num_or_null(latency, key, latency_ctx)
        req_num_or_null(service, key, service_ctx)
    req_num(value, "client_cpu_s", ctx)
    return RatePoint(
        offered_rps=positive(req_num(value, "offered_rps", ctx), ctx.child("offered_rps")),
        reason=reason,
        duration_s=positive(req_num(value, "duration_s", ctx), ctx.child("duration_s")),
        connections=req_int(value, "connections", ctx),
        scheduled=req_int(value, "scheduled", ctx),
        sent=req_int(value, "sent", ctx),
        completed=req_int(value, "completed", ctx),
        achieved_rps=req_num(value, "achieved_rps", ctx),
        errors={kind: req_int(errors_doc, kind, errors_ctx) for kind in RATE_ERROR_KINDS},
        p50_us=opt_num(latency, "p50", latency_ctx),
        p99_us=opt_num(latency, "p99", latency_ctx),
        service_p99_us=opt_num(service, "p99", service_ctx),
        max_send_lag_us=req_num_or_null(value, "max_send_lag_us", ctx),
    )


@dataclass(frozen=True)
class CeilingEndpoint:
    """What Django alone costs on one endpoint, called in-process without a server."""

    path: str | None
    requests: int
    cpu_s: float
    cpu_us_per_request: float
    rps_per_core: float | None


@dataclass(frozen=True)
class Ceiling:
    app_profile: str | None
    python: str | None
    cpus: int | None
    endpoints: dict[str, CeilingEndpoint]


def parse_ceiling(json_value: object, source: str) -> Ceiling:
    document, ctx = top_level(json_value, source)
    check_format(document, ctx, CEILING_FORMAT)
    endpoints_ctx = ctx.child("endpoints")
    endpoints_doc = req_obj(document, "endpoints", ctx)
    endpoints = {}
    for name in endpoints_doc:
        entry_ctx = endpoints_ctx.child(name)
        entry = req_obj(endpoints_doc, name, endpoints_ctx)
        endpoints[name] = CeilingEndpoint(
            path=opt_str(entry, "path", entry_ctx),
            requests=req_int(entry, "requests", entry_ctx),
            cpu_s=req_num(entry, "cpu_s", entry_ctx),
            cpu_us_per_request=positive(
                req_num(entry, "cpu_us_per_request", entry_ctx),
                entry_ctx.child("cpu_us_per_request"),
            ),
            rps_per_core=opt_num(entry, "rps_per_core", entry_ctx),
        )
    return Ceiling(
        app_profile=opt_str(document, "app_profile", ctx),
        python=opt_str(document, "python", ctx),
        cpus=opt_int(document, "cpus", ctx),
        endpoints=endpoints,
    )


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float


@dataclass(frozen=True)
class Timing:
    total_s: float
    phases: tuple[Phase, ...]


def parse_timing(json_value: object, source: str) -> Timing:
    document, ctx = top_level(json_value, source)
    check_format(document, ctx, TIMING_FORMAT)
    phases = []
    for index, value in enumerate(req_list(document, "phases", ctx)):
        phase_ctx = ctx.child("phases").child(index)
        if not isinstance(value, dict):
            raise phase_ctx.error(f"expected an object, got {value!r}")
        # Not checked for >= 0: a phase computed as a remainder may round a hair below 0.
        seconds = req_num(value, "seconds", phase_ctx)
        phases.append(Phase(req_str(value, "name", phase_ctx), seconds))
    return Timing(
        total_s=positive(req_num(document, "total_s", ctx), ctx.child("total_s")),
        phases=tuple(phases),
    )


def check_format(document: JsonObject, ctx: Ctx, expected: str) -> None:
    found = req_str(document, "format", ctx)
    if found != expected:
        raise ctx.child("format").error(f"expected {expected!r}, got {found!r}")


@dataclass(frozen=True)
class TopologyHost:
    name: str
    parts: tuple[str, ...]
    address: str | None
    vcpus: int | None
    boot_id: str | None  # the kernel's boot id: hosts with the same one share a kernel


@dataclass(frozen=True)
class Topology:
    """Who ran what in the sweep (topology.json): a single host, or a cluster's app hosts behind
    a proxy, its database and cache hosts, and the host the load came from."""

    cluster: bool
    database: str | None  # the one deployed
    databases: tuple[str, ...]  # the ones compared, in the order measured; () when none
    hosts: tuple[TopologyHost, ...]
    app_hosts: tuple[str, ...]
    proxy_host: str | None
    load_host: str | None
    count_header: str | None
    measured_host: str | None

    def hosts_with(self, part: str) -> list[str]:
        return [host.name for host in self.hosts if part in host.parts]

    def host_of_upstream(self, value: str) -> str | None:
        """The app host a counted header value names: ``address:port`` (an IPv6 address in
        brackets) or a bare address, matched to an app host's address."""
        address = value.strip()
        if address.startswith("["):
            address = address[1 : address.find("]")] if "]" in address else address[1:]
        elif address.count(":") == 1:
            address = address.rsplit(":", 1)[0]
        for host in self.hosts:
            if host.name in self.app_hosts and host.address == address:
                return host.name
        return None

    def shared_kernels(self) -> list[tuple[str, ...]]:
        """Groups of two or more hosts that report one kernel boot id (containers or processes
        on one machine: they share its cores), in the hosts' order."""
        groups: dict[str, list[str]] = {}
        for host in self.hosts:
            if host.boot_id:
                groups.setdefault(host.boot_id, []).append(host.name)
        return [tuple(names) for names in groups.values() if len(names) > 1]


def members(values: list[object], allowed: Sequence[str], ctx: Ctx, what: str) -> tuple[str, ...]:
    """values, each checked to be in allowed (what: how the error names them)."""
    for index, value in enumerate(values):
        if value not in allowed:
            raise ctx.child(index).error(f"expected {what}, got {value!r}")
    return tuple(str(value) for value in values)


def parse_topology(json_value: object, source: str) -> Topology:
    document, ctx = top_level(json_value, source)
    check_format(document, ctx, TOPOLOGY_FORMAT)
    cluster = document.get("cluster")
    if not isinstance(cluster, bool):
        raise ctx.child("cluster").error(f"expected true or false, got {cluster!r}")
    hosts = []
    for index, value in enumerate(req_list(document, "hosts", ctx, non_empty=True)):
        host_ctx = ctx.child("hosts").child(index)
        if not isinstance(value, dict):
            raise host_ctx.error(f"expected an object, got {value!r}")
        parts = value.get("parts")
        if not isinstance(parts, list) or not all(part in TOPOLOGY_PARTS for part in parts):
            raise host_ctx.child("parts").error(
                f"expected a list of {', '.join(TOPOLOGY_PARTS)}, got {parts!r}"
            )
        hosts.append(
            TopologyHost(
                name=req_str(value, "name", host_ctx),
                parts=tuple(parts),
                address=opt_str(value, "address", host_ctx),
                vcpus=opt_int(value, "vcpus", host_ctx),
                boot_id=opt_str(value, "boot_id", host_ctx),
            )
        )
    names = [host.name for host in hosts]
    databases = members(
        opt_list(document, "databases", ctx),
        TOPOLOGY_DATABASES,
        ctx.child("databases"),
        f"one of {', '.join(TOPOLOGY_DATABASES)}",
    )
    app_hosts = members(
        req_list(document, "app_hosts", ctx, non_empty=True),
        names,
        ctx.child("app_hosts"),
        f"a host of hosts ({', '.join(names)})",
    )
    return Topology(
        cluster=cluster,
        database=opt_str(document, "database", ctx),
        databases=databases,
        hosts=tuple(hosts),
        app_hosts=app_hosts,
        proxy_host=opt_str(document, "proxy_host", ctx),
        load_host=opt_str(document, "load_host", ctx),
        count_header=opt_str(document, "count_header", ctx),
        measured_host=opt_str(document, "measured_host", ctx),
    )
