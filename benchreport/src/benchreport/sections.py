"""The report's Benchmark 2.0 parts as blocks: capacity at SLO (the headline), spread and
ranking, ceiling share, the study beside ours, the trend, and where the time went. Each
builder turns one model (capacity.py, spread.py, ceiling_share.py, trend.py, sweep_files.py)
into tables and sentences; report.py places them."""

from __future__ import annotations

from collections.abc import Sequence

from benchreport.aggregate import Row, display_key
from benchreport.capacity import Capacity, fmt_capacity
from benchreport.ceiling_share import CeilingShare
from benchreport.config import Config
from benchreport.document import Block, Paragraph, Table, Text, code, strong, text
from benchreport.schema import Sweep
from benchreport.spread import (
    Placed,
    fmt_place,
    single_round,
    spread,
    spread_flagged,
    spread_ranking,
)
from benchreport.study import STUDY_CAPTION, STUDY_FIGURES
from benchreport.sweep_files import Ceiling, Timing
from benchreport.tables import (
    DASH,
    Column,
    build_table,
    delta_pct,
    endpoint_title,
    fmt,
    fmt_delta,
    fmt_flags,
    fmt_mib,
)
from benchreport.trend import Trend

# --- Capacity at SLO ----------------------------------------------------------------------


def fmt_slo(capacities: Sequence[Capacity]) -> str:
    return " / ".join(f"{slo:g}" for slo in sorted({item.slo_ms for item in capacities}))


def capacity_table(capacities: Sequence[Capacity], configs: Sequence[Config]) -> Block:
    """Configs x endpoints: the highest offered rate held; a paragraph when none was run."""
    if not capacities:
        return Paragraph(
            text(
                "No fixed-rate runs (",
                code("rates/*.json"),
                ") in this sweep: capacity at SLO was not measured. The closed-loop tables "
                "below are the study's view.",
            )
        )
    endpoints = sorted({item.endpoint for item in capacities})
    by_key = {(item.config, item.endpoint): item for item in capacities}
    ordered = sorted({*configs, *(item.config for item in capacities)}, key=display_key)
    return Table(
        title=text(
            f"Capacity at SLO: highest offered rate held with p99 <= {fmt_slo(capacities)} ms"
        ),
        columns=("Server", *(f"{endpoint} req/s" for endpoint in endpoints)),
        rows=tuple(
            (config.name, *(fmt_capacity(by_key.get((config, endpoint))) for endpoint in endpoints))
            for config in ordered
        ),
        numeric=frozenset(range(1, len(endpoints) + 1)),
        caption=(
            "Held = every due request answered without an error (unsent included) and p99, "
            "measured from when each request was due, within the SLO. + = every rate run was "
            "held, the real capacity may be higher; < lowest rate = not even the lowest rate "
            "run was held; no rate run = every rate asked for was left out; n/a = no "
            "fixed-rate run of that config and endpoint; client-bound = the load client set "
            "the limit (a higher rate was left out as beyond what the client itself can "
            "offer, or the first rate not held was at or above it): the server was not "
            "tested up to its own."
        ),
    )


def capacity_verdicts(capacities: Sequence[Capacity]) -> tuple[Text, ...]:
    """Per endpoint with fixed-rate runs: the config(s) that held the most traffic."""
    lines = []
    for endpoint in sorted({item.endpoint for item in capacities}):
        held = [
            item
            for item in capacities
            if item.endpoint == endpoint and item.capacity_rps is not None
        ]
        if not held:
            lines.append(text(code(endpoint), ": no config held even its lowest rate."))
            continue
        best = max(item.capacity_rps or 0.0 for item in held)
        names = ", ".join(item.config.name for item in held if item.capacity_rps == best)
        lines.append(
            text(
                code(endpoint),
                f": most traffic held with p99 <= {fmt_slo(held)} ms: {names} "
                f"({fmt_capacity(next(item for item in held if item.capacity_rps == best))} "
                "req/s offered).",
            )
        )
    return tuple(lines)


# --- Spread and ranking ---------------------------------------------------------------------


def _spread_flags(row: Row) -> str:
    flags = [*row.flags, *(["spread > 10%"] if spread_flagged(row) else [])]
    return ", ".join(flags) if flags else "ok"


def _spread_pct(row: Row) -> str:
    value = spread(row)
    return DASH if value is None else f"{100 * value:.1f}%"


SPREAD_COLUMNS = (
    Column[Placed]("Place", fmt_place),
    Column[Placed]("Server", lambda item: item.row.config.name),
    Column[Placed]("req/s (median)", lambda item: fmt(item.row.rps_median), numeric=True),
    Column[Placed](
        "min – max", lambda item: f"{fmt(item.row.rps_min)} – {fmt(item.row.rps_max)}", numeric=True
    ),
    Column[Placed]("spread", lambda item: _spread_pct(item.row), numeric=True),
    Column[Placed]("rounds", lambda item: str(len(item.row.rounds)), numeric=True),
    Column[Placed]("Flags", lambda item: _spread_flags(item.row)),
)


def spread_table(rows: Sequence[Row], endpoint: str) -> Table:
    return build_table(
        endpoint_title("Spread and ranking, endpoint ", endpoint, " (closed loop, by median)"),
        SPREAD_COLUMNS,
        spread_ranking(rows),
        caption=(
            "spread = (max - min) / median of the rounds' req/s, flagged above 10%. Two "
            "configs are ranked apart only when their min – max ranges do not overlap; "
            "overlapping ranges (directly or through a chain) share a place (tie)."
        ),
        highlight=lambda item: item.place is None or spread_flagged(item.row),
    )


def spread_note(rows: Sequence[Row]) -> Paragraph | None:
    if not single_round(rows):
        return None
    return Paragraph(
        text(
            strong("One round"),
            ": min = max = median, so the ranking has no spread to judge; run two rounds or "
            "more before reading a place as a difference.",
        )
    )


# --- Ceiling share --------------------------------------------------------------------------


def fmt_pct_value(value: float | None) -> str:
    return DASH if value is None else f"{value:.0f}%"


CEILING_COLUMNS = (
    Column[CeilingShare]("Server", lambda item: item.config.name),
    Column[CeilingShare]("Endpoint", lambda item: item.endpoint),
    Column[CeilingShare](
        "Django alone CPU µs/req", lambda item: fmt(item.app_us_per_request), numeric=True
    ),
    Column[CeilingShare](
        "server CPU µs/req", lambda item: fmt(item.server_us_per_request), numeric=True
    ),
    Column[CeilingShare]("share", lambda item: fmt_pct_value(item.share_pct), numeric=True),
)


def ceiling_table(
    shares: Sequence[CeilingShare], ceiling: Ceiling, sweep: Sweep | None = None
) -> Table:
    facts = ", ".join(
        part
        for part in (
            f"app profile {ceiling.app_profile}" if ceiling.app_profile else "",
            f"Python {ceiling.python}" if ceiling.python else "",
            f"{ceiling.cpus} CPUs" if ceiling.cpus else "",
        )
        if part
    )
    return build_table(
        text("Ceiling share: Django alone vs under each server (closed-loop runs)"),
        CEILING_COLUMNS,
        shares,
        caption=(
            "Django alone = the app's in-process CPU µs per request, no server and no HTTP "
            f"(ceiling.json{': ' + facts if facts else ''}). server = the server unit's CPU "
            "seconds x 1e6 / wrk's requests, median over rounds. share = Django alone / "
            "server: 100% would be a server that costs nothing; the rest is the server's and "
            "HTTP's cost." + profile_mismatch(ceiling, sweep)
        ),
    )


def profile_mismatch(ceiling: Ceiling, sweep: Sweep | None) -> str:
    """A warning when the ceiling measured another app profile than the sweep ran."""
    if ceiling.app_profile is None or ceiling.app_profile == profile_of(sweep):
        return ""
    return (
        f" WARNING: the ceiling measured the {ceiling.app_profile} app but the sweep ran the "
        f"{profile_of(sweep)} app: the shares compare different apps."
    )


# --- Where the time went --------------------------------------------------------------------


def timing_table(timing: Timing) -> Table:
    rows = [
        (phase.name, f"{phase.seconds:,.0f}", f"{100 * phase.seconds / timing.total_s:.0f}%")
        for phase in timing.phases
    ]
    rows.append(("total", f"{timing.total_s:,.0f}", "100%"))
    return Table(
        title=(),
        columns=("Phase", "seconds", "share"),
        rows=tuple(rows),
        numeric=frozenset({1, 2}),
        caption="As the playbook timed them (timing.json); share of the sweep's total.",
    )


# --- App profile and the study --------------------------------------------------------------


LEAN_SENTENCE = (
    "This sweep ran the lean app (no sessions, CSRF, auth or messages middleware), leaner than "
    "the study's, so its numbers are not comparable to the study's table."
)


def profile_of(sweep: Sweep | None) -> str:
    return (sweep.app_profile if sweep else None) or "lean"


def profile_sentence(sweep: Sweep | None) -> Paragraph:
    profile = profile_of(sweep)
    if profile == "study":
        return Paragraph(
            text(
                "App profile: ",
                code("study"),
                " (sessions, CSRF, auth and messages middleware and the template context "
                "processors of a DjangoStarter-like project): comparable to the study's table.",
            )
        )
    stated = "" if sweep and sweep.app_profile else " (sweep.json names none: taken as lean)"
    return Paragraph(text("App profile: ", code("lean"), f"{stated}. {LEAN_SENTENCE}"))


def default_rows(rows: Sequence[Row], endpoint: str) -> dict[str, Row]:
    """Each server's default config (no overrides, no proxy) on the endpoint."""
    found: dict[str, Row] = {}
    for row in sorted(rows, key=lambda item: display_key(item.config)):
        if row.endpoint == endpoint and not row.config.overrides and row.config.proxy is None:
            found.setdefault(row.config.server, row)
    return found


def study_table(rows: Sequence[Row], endpoint: str) -> Table:
    ours = default_rows(rows, endpoint)

    def our(server: str, value: str) -> str:
        return value if server in ours else "not run"

    return Table(
        title=endpoint_title("The study's table beside ours, endpoint ", endpoint, ""),
        columns=(
            "Server",
            "Study req/s",
            "our req/s (median)",
            "Study MB (RSS sum)",
            "our PSS peak MiB",
            "our RSS sum peak MiB",
            "our flags",
        ),
        rows=tuple(
            (
                figure.label,
                fmt(figure.rps, 0),
                our(server, fmt(ours[server].rps_median if server in ours else None)),
                fmt(figure.memory_mb, 0),
                our(server, fmt_mib(ours[server].pss_peak_bytes if server in ours else None)),
                our(server, fmt_mib(ours[server].rss_peak_bytes if server in ours else None)),
                our(server, fmt_flags(ours[server]) if server in ours else ""),
            )
            for server, figure in STUDY_FIGURES.items()
        ),
        numeric=frozenset({1, 2, 3, 4, 5}),
        caption=(
            "ours = each server's default config (catalog settings, no proxy), median of the "
            "closed-loop rounds; memory PSS (honest) and summed RSS (the study's method). "
            + STUDY_CAPTION
        ),
    )


def study_blocks(sweep: Sweep | None, rows: Sequence[Row], endpoint: str | None) -> list[Block]:
    """The profile sentence, and the study's table beside ours when the app was the study's."""
    blocks: list[Block] = [profile_sentence(sweep)]
    if profile_of(sweep) == "study" and endpoint is not None:
        blocks.append(study_table(rows, endpoint))
    return blocks


# --- Trend ----------------------------------------------------------------------------------


def trend_table(trend: Trend) -> Table:
    labels = [point.label for point in trend.points]

    def cells(name: str) -> tuple[str, ...]:
        values = [point.medians.get(name) for point in trend.points]
        change = delta_pct(values[-2], values[-1]) if len(values) > 1 else None
        return (name, *(fmt(value) for value in values), fmt_delta(change))

    return Table(
        title=endpoint_title("Median req/s per sweep, endpoint ", trend.endpoint, ""),
        columns=("Server", *labels, "Δ last"),
        rows=tuple(cells(name) for name in trend.config_names),
        numeric=frozenset(range(1, len(labels) + 2)),
        caption=(
            "The sweeps in this results folder's parent, oldest first, this one last (at most "
            "10); Δ last = change from the sweep before. Configs pair by name, as in compare."
        ),
    )
