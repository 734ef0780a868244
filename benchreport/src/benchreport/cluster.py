"""The report's cluster parts as blocks: who ran what (topology.json), what that means for the
numbers when the hosts share one machine's cores, where the answers went (the runs' counts by
the header that names the app host), and each config on SQLite beside PostgreSQL when the sweep
compared databases. report.py places them."""

from __future__ import annotations

from collections.abc import Sequence

from benchreport.aggregate import Row, display_key
from benchreport.config import Config
from benchreport.document import Block, Paragraph, Table, Text, code, strong, text
from benchreport.header import DATABASES
from benchreport.schema import Run
from benchreport.sweep_files import Topology
from benchreport.tables import DASH, delta_pct, fmt, fmt_delta, fmt_flags, fmt_pct

PART_NAMES = {
    "app": "app (Django)",
    "db": "db (PostgreSQL)",
    "cache": "cache (Redis)",
    "proxy": "proxy (Caddy)",
    "loadgen": "load (wrk)",
}
# The column of answers whose header value names no app host (or that had no such header).
OTHER = "other"


def join_names(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def compared_databases(topology: Topology) -> tuple[str, ...]:
    """The databases the app ran on in this sweep: the ones compared, else the one deployed."""
    return topology.databases or ((topology.database,) if topology.database else ())


def where_the_database_is(topology: Topology, database: str) -> str:
    db_hosts = topology.hosts_with("db")
    if database == "postgres" and db_hosts:
        return f"postgres on {join_names(db_hosts)}"
    return f"{database} (a file on each app host)" if database == "sqlite" else database


def who_runs_what(topology: Topology) -> Text:
    """One sentence: the app hosts, the proxy, the database(s), the cache and the load host."""
    databases = compared_databases(topology)
    if not topology.cluster:
        host = topology.app_hosts[0]
        load = (
            "; the load ran on it too."
            if topology.load_host in (None, host)
            else f"; the load came from {topology.load_host}."
        )
        return text(
            "One host, ",
            strong(host),
            ", runs the app with its own Redis and database "
            f"({', then '.join(databases) or 'sqlite'}){load}",
        )
    cache_hosts = topology.hosts_with("cache")
    app_count = len(topology.app_hosts)
    on_databases = ", then on ".join(where_the_database_is(topology, name) for name in databases)
    parts = [
        f"{app_count} app host{'s' if app_count != 1 else ''} ({join_names(topology.app_hosts)})",
        f"behind {topology.proxy_host}'s Caddy" if topology.proxy_host else "without a proxy",
        (("database " if len(databases) < 2 else "the app on ") + on_databases)
        if databases
        else "",
        f"Redis on {join_names(cache_hosts)}" if cache_hosts else "Redis on each app host",
        f"the load from {topology.load_host}" if topology.load_host else "",
    ]
    return text("Cluster: ", "; ".join(part for part in parts if part), ".")


def topology_table(topology: Topology) -> Table:
    return Table(
        title=(),
        columns=("Host", "Runs", "Address", "vCPUs", "Kernel boot id"),
        rows=tuple(
            (
                host.name,
                ", ".join(PART_NAMES[part] for part in host.parts) or DASH,
                host.address or DASH,
                str(host.vcpus) if host.vcpus is not None else DASH,
                host.boot_id[:8] if host.boot_id else DASH,
            )
            for host in topology.hosts
        ),
        numeric=frozenset({3}),
        caption=(
            "From the topology role's facts (topology.json). Hosts with the same kernel boot id "
            "run on one kernel: containers on one machine."
        ),
    )


def cores_note(topology: Topology) -> Paragraph | None:
    """What sharing one machine's cores means for a cluster's numbers, said plainly."""
    shared = topology.shared_kernels()
    if not topology.cluster:
        return None
    if not shared:
        if any(host.boot_id is None for host in topology.hosts):
            return Paragraph(
                text(
                    "Whether the hosts share cores is not known (no kernel boot id for every "
                    "host): judge the scaling only on hosts you know to be separate machines."
                )
            )
        return Paragraph(
            text(
                "Every host runs its own kernel: separate machines or VMs, with cores of their own."
            )
        )
    groups = "; ".join(join_names(names) for names in shared)
    return Paragraph(
        text(
            strong("This run proves function, not scaling."),
            f" {groups} report one kernel boot id: they are containers on one machine and share "
            "its cores (the vCPUs each one shows are that machine's). The load generator, the "
            "proxy, the app hosts and the database take CPU from each other, so the figures "
            "show neither what each part serves on a machine of its own nor what another app "
            "host would add (here: nothing). What they can show is that the parts work "
            "together: the requests go through the proxy, every app host answers its share "
            "(answers per app host), the database and cache answer them (errors and flags "
            "below). To measure scaling, run it on separate VMs (",
            code("inventory/example-cluster"),
            ").",
        )
    )


def topology_blocks(topology: Topology) -> tuple[Block, ...]:
    note = cores_note(topology)
    return (
        Paragraph(who_runs_what(topology)),
        *([note] if note else []),
        topology_table(topology),
    )


def counted_runs(runs: Sequence[Run]) -> list[Run]:
    return sorted(
        (run for run in runs if run.wrk.header_counts is not None),
        key=lambda run: (display_key(run.config), run.endpoint, run.round),
    )


def host_counts(run: Run, topology: Topology | None) -> dict[str, int]:
    """The run's answers per app host (by the header's value), the rest under OTHER."""
    counted = run.wrk.header_counts
    found: dict[str, int] = {}
    if counted is None:
        return found
    for value, count in counted.counts.items():
        host = topology.host_of_upstream(value) if topology else None
        name = host or (value if topology is None else OTHER)
        found[name] = found.get(name, 0) + count
    return found


def distribution_table(runs: Sequence[Run], topology: Topology | None) -> Table | None:
    """Per run: how many answers each app host gave, and its share."""
    counted = counted_runs(runs)
    if not counted:
        return None
    per_run = [host_counts(run, topology) for run in counted]
    hosts = list(topology.app_hosts) if topology else []
    extra = sorted({name for counts in per_run for name in counts} - set(hosts) - {OTHER})
    columns_hosts = [*hosts, *extra]
    show_other = any(OTHER in counts for counts in per_run)
    header = counted[0].wrk.header_counts.header if counted[0].wrk.header_counts else ""

    def cells(run: Run, counts: dict[str, int]) -> tuple[str, ...]:
        total = sum(counts.values())
        shares = tuple(
            f"{counts.get(name, 0):,} ({fmt_pct(counts.get(name, 0) / total, 1)})"
            if total
            else DASH
            for name in columns_hosts
        )
        other = (f"{counts.get(OTHER, 0):,}",) if show_other else ()
        return (run.config.name, run.endpoint, str(run.round), f"{total:,}", *shares, *other)

    return Table(
        title=(),
        columns=(
            "Config",
            "Endpoint",
            "Round",
            "answers",
            *columns_hosts,
            *((OTHER,) if show_other else ()),
        ),
        rows=tuple(cells(run, counts) for run, counts in zip(counted, per_run, strict=True)),
        numeric=frozenset(range(2, 4 + len(columns_hosts) + (1 if show_other else 0))),
        caption=(
            f"Every answer of each closed-loop run counted by its {header} header, which the "
            "proxy sets to the app host (address:port) that served it (wrk_json.lua). "
            + (
                f"{OTHER} = answers without it or from no app host of topology.json. "
                if show_other
                else ""
            )
            + "Counting hands each answer's headers to wrk's Lua, which costs the client CPU."
        ),
    )


# The endpoint a database comparison is about (a page of rows from the database) comes first.
DATABASE_ENDPOINT = "movies"


def database_table(rows: Sequence[Row]) -> Table | None:
    """Each config and endpoint on every database the sweep measured it on, side by side:
    median req/s, p99 and flags, and the change from the first database to the second."""
    measured = sorted({row.config.database for row in rows if row.config.database})
    if len(measured) < 2:
        return None
    databases = [name for name in DATABASES if name in measured]
    by_key: dict[tuple[Config, str], dict[str, Row]] = {}
    for row in rows:
        if row.config.database:
            key = (row.config.without_database, row.endpoint)
            by_key.setdefault(key, {})[row.config.database] = row
    first, second = databases[0], databases[1]

    def order(key: tuple[Config, str]) -> tuple[bool, tuple[int, str, str, str], str]:
        return (key[1] != DATABASE_ENDPOINT, display_key(key[0]), key[1])

    def cells(key: tuple[Config, str]) -> tuple[str, ...]:
        found = by_key[key]
        rps = [found[name].rps_median if name in found else None for name in databases]
        p99 = [found[name].p99_ms if name in found else None for name in databases]
        flags = [fmt_flags(found[name]) if name in found else "not run" for name in databases]
        return (
            key[0].name,
            key[1],
            *(fmt(value) for value in rps),
            fmt_delta(delta_pct(rps[0], rps[1])),
            *(fmt(value, 2) for value in p99),
            *flags,
        )

    return Table(
        title=text("The app on ", code(first), " beside ", code(second)),
        columns=(
            "Config",
            "Endpoint",
            *(f"{name} req/s" for name in databases),
            f"Δ to {second}",
            *(f"{name} p99 ms" for name in databases),
            *(f"{name} flags" for name in databases),
        ),
        rows=tuple(cells(key) for key in sorted(by_key, key=order)),
        numeric=frozenset(range(2, 3 + 2 * len(databases))),
        caption=(
            f"Median closed-loop req/s over the rounds; Δ = change from {first} to {second}. "
            f"{DATABASE_ENDPOINT} runs two queries (a count and a page of 20 rows); health_sync "
            "one (SELECT 1) beside a Redis PING; health none."
        ),
    )
