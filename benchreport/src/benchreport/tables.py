"""The report's tables as data (document.Table), one builder per table, and the formatting of
their cells. Every output shows these same tables, so they cannot drift apart."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from benchreport.aggregate import Row, memory_ranking, rps_ranking
from benchreport.document import Table, Text, code, text
from benchreport.schema import ERROR_KINDS, HostFacts, ResultSet, Run, Versions
from benchreport.study import STUDY_CAPTION, server_display_key, study_figure

MIB = 2**20
GIB = 2**30
DASH = "–"

Ranked = tuple[int | None, Row]
T = TypeVar("T")


def fmt(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f"{value:,.{digits}f}"


def fmt_mib(value: float | None) -> str:
    return DASH if value is None else f"{value / MIB:,.1f}"


def fmt_pct(value: float | None, digits: int = 2) -> str:
    return DASH if value is None else f"{100 * value:.{digits}f}%"


def delta_pct(before: float | None, after: float | None) -> float | None:
    if before is None or after is None or before == 0:
        return None
    return 100 * (after - before) / before


def fmt_delta(value: float | None) -> str:
    return DASH if value is None else f"{value:+.1f}%"


def fmt_flags(row: Row) -> str:
    return ", ".join(row.flags) if row.flags else "ok"


def fmt_rank(rank: int | None) -> str:
    return str(rank) if rank is not None else "not ranked"


def fmt_us_as_ms(value_us: float | None) -> str:
    return fmt(value_us / 1000 if value_us is not None else None, 2)


@dataclass(frozen=True)
class Column(Generic[T]):
    """One column of a table of T: its header and how a T shows in it."""

    header: str
    cell: Callable[[T], str]
    numeric: bool = False


def build_table(
    title: Text,
    columns: Sequence[Column[T]],
    items: Sequence[T],
    caption: str = "",
    highlight: Callable[[T], bool] | None = None,
) -> Table:
    return Table(
        title=title,
        columns=tuple(column.header for column in columns),
        rows=tuple(tuple(column.cell(item) for column in columns) for item in items),
        numeric=frozenset(index for index, column in enumerate(columns) if column.numeric),
        caption=caption,
        highlighted=frozenset(
            index for index, item in enumerate(items) if highlight is not None and highlight(item)
        ),
    )


def endpoint_title(before: str, endpoint: str, after: str) -> Text:
    return text(before, code(endpoint), after)


def _not_ranked(row: Row) -> bool:
    return not row.ranked


def _study_rps(row: Row) -> str:
    study = study_figure(row.config.server)
    return fmt(study.rps, 0) if study else DASH


def _study_memory(row: Row) -> str:
    study = study_figure(row.config.server)
    return fmt(study.memory_mb, 0) if study else DASH


def _rps_range(row: Row) -> str:
    return f"{fmt(row.rps_min)} {DASH} {fmt(row.rps_max)}"


SERVER = Column[Row]("Server", lambda row: row.config.name)
FLAGS = Column[Row]("Flags", fmt_flags)
RANK = Column[Ranked]("Rank", lambda item: fmt_rank(item[0]))


def _of_ranked(column: Column[Row]) -> Column[Ranked]:
    """The same column for a ranking's (rank, row) items."""
    return Column[Ranked](column.header, lambda item: column.cell(item[1]), column.numeric)


@dataclass(frozen=True)
class EndpointTable:
    """One table of an endpoint's section: the config's name, its own columns and the flags,
    under a title naming the endpoint. A ranking (the study's two tables) also orders and
    numbers the rows and shows the study's published figure as a reference column."""

    title: tuple[str, str]  # the title's words before and after the endpoint
    columns: tuple[Column[Row], ...]
    caption: str
    flags: bool = True  # a Flags column, and flagged rows highlighted
    ranking: Callable[[Sequence[Row]], list[Ranked]] | None = None
    study: Column[Row] | None = None

    def table(self, rows: Sequence[Row], endpoint: str) -> Table:
        title = endpoint_title(self.title[0], endpoint, self.title[1])
        study = [self.study] if self.study else []
        columns = [SERVER, *self.columns, *study, *([FLAGS] if self.flags else [])]
        highlight = _not_ranked if self.flags else None
        if self.ranking is None:
            return build_table(title, columns, rows, self.caption, highlight)
        return build_table(
            title,
            [RANK, *(_of_ranked(column) for column in columns)],
            self.ranking(rows),
            self.caption,
            highlight=lambda item: _not_ranked(item[1]),
        )


def _answered(row: Row) -> str:
    if row.probe_connections is None:
        return DASH
    return f"{row.answered_connections_min}/{row.probe_connections}"


def _error_count(kind: str) -> Column[Row]:
    return Column[Row](kind, lambda row: f"{row.errors[kind]:,}", numeric=True)


def _ms_column(header: str, value: Callable[[Row], float | None]) -> Column[Row]:
    return Column[Row](header, lambda row: fmt(value(row), 2), numeric=True)


def _mib_column(header: str, value: Callable[[Row], int | None]) -> Column[Row]:
    return Column[Row](header, lambda row: fmt_mib(value(row)), numeric=True)


RPS_RANKING = EndpointTable(
    title=("Requests per second, endpoint ", " (closed-loop ranking: the study's view)"),
    ranking=rps_ranking,
    columns=(
        Column[Row]("Config", lambda row: "; ".join(row.config_descriptions) or DASH),
        Column[Row]("req/s (mean)", lambda row: fmt(row.rps_mean), numeric=True),
        Column[Row]("min – max", _rps_range, numeric=True),
        Column[Row]("spread %", lambda row: fmt(row.rps_spread_pct), numeric=True),
        Column[Row]("rounds", lambda row: str(len(row.rounds)), numeric=True),
    ),
    study=Column[Row]("Study req/s", _study_rps, numeric=True),
    caption="Flagged configs are listed but not ranked. " + STUDY_CAPTION,
)

MEMORY_RANKING = EndpointTable(
    title=("Memory, endpoint ", " (ranking by peak PSS, lowest first)"),
    ranking=memory_ranking,
    columns=(
        _mib_column("PSS peak MiB", lambda row: row.pss_peak_bytes),
        _mib_column("PSS mean MiB", lambda row: row.pss_mean_bytes),
        _mib_column("cgroup peak MiB", lambda row: row.cgroup_peak_bytes),
        _mib_column("RSS sum peak MiB", lambda row: row.rss_peak_bytes),
    ),
    study=Column[Row]("Study MB (RSS sum)", _study_memory, numeric=True),
    caption=(
        "PSS (proportional set size) splits shared pages among the processes sharing them; the "
        "RSS sum counts a forked worker's shared pages once per worker, the study's method, "
        "shown to size that error. cgroup peak = the unit's charged memory (page cache "
        "included) at its highest."
    ),
)

LATENCY_TABLE = EndpointTable(
    title=("Latency, endpoint ", " (ms, mean over rounds; max = worst round)"),
    columns=(
        _ms_column("p50", lambda row: row.p50_ms),
        _ms_column("p90", lambda row: row.p90_ms),
        _ms_column("p99", lambda row: row.p99_ms),
        _ms_column("p99 worst", lambda row: row.p99_ms_max),
        _ms_column("p99.9", lambda row: row.p99_9_ms),
        _ms_column("max", lambda row: row.max_ms),
    ),
    caption=(
        "wrk measures latency only for answered requests: a connection that never gets an "
        "answer adds nothing here, see the fairness columns."
    ),
)

ERRORS_TABLE = EndpointTable(
    title=("Errors and fairness, endpoint ", " (all rounds)"),
    columns=(
        Column[Row]("requests", lambda row: f"{row.requests:,}", numeric=True),
        *(_error_count(kind) for kind in ERROR_KINDS),
        Column[Row]("error % (worst round)", lambda row: fmt_pct(row.error_rate_max), numeric=True),
        Column[Row]("answered conns (worst)", _answered, numeric=True),
        Column[Row]("answers Gini", lambda row: fmt(row.answers_gini_max, 2), numeric=True),
    ),
    caption=(
        "status = HTTP status > 399. Answered conns = probe connections that got at least "
        "one answer; Gini 0 = answers spread evenly over connections, near 1 = a few "
        "connections got them all."
    ),
)

CPU_TABLE = EndpointTable(
    title=("CPU, endpoint ", " (seconds per run, mean over rounds)"),
    columns=(
        Column[Row]("server CPU s", lambda row: fmt(row.server_cpu_s, 2), numeric=True),
        Column[Row]("client (wrk) CPU s", lambda row: fmt(row.client_cpu_s, 2), numeric=True),
        Column[Row]("client share", lambda row: fmt_pct(row.client_cpu_share, 0), numeric=True),
    ),
    caption=(
        "client share = wrk's CPU time / (wrk's + the server's). When wrk runs on the "
        "server's cores, that share was taken from the server."
    ),
    flags=False,
)

# An endpoint's section: the study's two rankings, then the detail tables.
ENDPOINT_TABLES = (RPS_RANKING, MEMORY_RANKING, LATENCY_TABLE, ERRORS_TABLE, CPU_TABLE)


def endpoint_tables(rows: Sequence[Row], endpoint: str) -> tuple[Table, ...]:
    """The study's two rankings, then the detail tables, for one endpoint's rows."""
    return tuple(spec.table(rows, endpoint) for spec in ENDPOINT_TABLES)


def host_facts(host: HostFacts) -> list[tuple[str, str]]:
    return [
        ("Host", host.hostname or DASH),
        ("CPU", host.cpu_model),
        ("vCPUs", str(host.vcpus)),
        ("Memory", f"{host.memory_bytes / GIB:.1f} GiB"),
        ("Kernel", host.kernel),
        ("OS", host.os),
    ]


def version_facts(versions: Versions) -> list[tuple[str, str]]:
    return [("Python", versions.python), ("Django", versions.django), ("wrk", versions.wrk)]


def server_versions(versions: Versions) -> list[tuple[str, str]]:
    """Each server's package version, servers in display order."""
    names = sorted(versions.servers, key=server_display_key)
    return [(name, versions.servers[name] or DASH) for name in names]


def host_table(result_set: ResultSet) -> Table:
    host, versions = result_set.host, result_set.versions
    facts = [
        *host_facts(host),
        *((name, value or DASH) for name, value in sorted(host.extra.items())),
        *version_facts(versions),
        *server_versions(versions),
        *((name, value or DASH) for name, value in sorted(versions.packages.items())),
    ]
    return Table(title=(), columns=("Fact", "Value"), rows=tuple(facts))


def runs_table(runs: Sequence[Run]) -> Table:
    columns = (
        Column[Run]("File", lambda run: run.source),
        Column[Run]("Round", lambda run: str(run.round), numeric=True),
        Column[Run]("Server", lambda run: run.config.name),
        Column[Run]("Endpoint", lambda run: run.endpoint),
        Column[Run]("Started", lambda run: run.started_at),
        Column[Run]("req/s", lambda run: fmt(run.wrk.rps), numeric=True),
        Column[Run]("p99 ms", lambda run: fmt_us_as_ms(run.wrk.latency.p99_us), numeric=True),
        Column[Run](
            "answered",
            lambda run: fmt_pct(run.fairness.answered_fraction, 0) if run.fairness else DASH,
            numeric=True,
        ),
    )
    return build_table((), columns, runs)
