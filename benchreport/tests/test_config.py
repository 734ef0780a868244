"""Structured configs: names made from fields, identity without knobs, one row per config, and
what a sweep script needs from the rows (the default and the best config per server)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import pytest

from benchreport import Config, Knobs, Row, Run, Thresholds, aggregate, load_runs
from benchreport.study import STUDY_FIGURES, server_display_key, study_figure


def config(
    server: str = "uwsgi",
    proxy: str | None = None,
    overrides: Mapping[str, int | str] | None = None,
    knobs: Mapping[str, int | str] | None = None,
) -> Config:
    return Config(server, "wsgi", proxy, Knobs(overrides), Knobs(knobs))


@pytest.mark.parametrize(
    ("made", "name"),
    [
        (config(), "uwsgi"),
        (config("gunicorn", proxy="caddy"), "gunicorn-caddy"),
        (
            config(overrides={"workers": 1, "uwsgi_http_mode": "http11-socket", "threads": 1}),
            "uwsgi (threads=1, uwsgi_http_mode=http11-socket, workers=1)",
        ),
        (config(proxy="caddy", overrides={"workers": 4}), "uwsgi-caddy (workers=4)"),
    ],
)
def test_name_is_made_from_fields(made: Config, name: str) -> None:
    assert made.name == name


def test_description_reads_the_knobs_in_order() -> None:
    made = config(proxy="caddy", knobs={"workers": 2, "threads": 2, "uwsgi_http_mode": "router"})
    assert made.description == "wsgi workers=2 threads=2 uwsgi_http_mode=router via=caddy"
    assert config().description == "wsgi"


def test_identity_is_the_choice_not_the_resolved_knobs() -> None:
    chosen = {"workers": 1, "threads": 1}
    first = config(overrides=chosen, knobs={"workers": 1, "backlog": 1024})
    second = config(overrides=dict(reversed(chosen.items())), knobs={"workers": 1})
    assert first == second
    assert hash(first) == hash(second)
    assert first != config(overrides={"workers": 2, "threads": 1})
    assert config() != Config("uwsgi", "asgi")
    assert config() != config(proxy="caddy")


def with_config(run: Run, made: Config) -> Run:
    return dataclasses.replace(run, config=made)


def test_rounds_pool_per_config(results_a: Path) -> None:
    """The same server measured with three configs: three rows; the knobs a round resolved
    to do not split a config."""
    gunicorn = [run for run in load_runs(results_a) if run.config.server == "gunicorn"]
    ping = [run for run in gunicorn if run.endpoint == "ping"]
    default = config("gunicorn", knobs={"workers": 2})
    tuned = config("gunicorn", overrides={"workers": 4}, knobs={"workers": 4})
    proxied = config("gunicorn", proxy="caddy", knobs={"workers": 2})
    runs = [
        with_config(ping[0], default),
        with_config(ping[1], dataclasses.replace(default, knobs=Knobs({"workers": 3}))),
        *(with_config(run, tuned) for run in ping),
        with_config(ping[0], proxied),
    ]
    rows = aggregate(runs, Thresholds())
    assert [(row.config.name, row.rounds) for row in rows] == [
        ("gunicorn", (1, 2)),
        ("gunicorn (workers=4)", (1, 2)),
        ("gunicorn-caddy", (1,)),
    ]
    assert rows[0].config_descriptions == ("wsgi workers=2", "wsgi workers=3")


def default_and_best(rows: list[Row]) -> dict[str, tuple[Row, Row]]:
    """What a knob sweep reports per server: its default config and its fastest ranked one,
    chosen from the rows' configs without parsing a name."""
    result = {}
    for server in sorted({row.config.server for row in rows}, key=server_display_key):
        own = [row for row in rows if row.config.server == server]
        default = next(row for row in own if not row.config.overrides)
        best = max((row for row in own if row.ranked), key=lambda row: row.rps_mean)
        result[server] = (default, best)
    return result


def test_a_sweep_picks_default_and_best_from_the_rows(results_a: Path) -> None:
    runs = [run for run in load_runs(results_a) if run.endpoint == "ping"]
    fair = [run for run in runs if run.config.server == "gunicorn"]
    closing = [run for run in runs if run.config.server == "granian"]
    # The fair test server as gunicorn's tuned config, the slower closing one as its default.
    tuned = config("gunicorn", overrides={"workers": 4})
    swept = [
        *(with_config(run, config("gunicorn")) for run in closing),
        *(with_config(run, tuned) for run in fair),
    ]
    default, best = default_and_best(aggregate(swept, Thresholds()))["gunicorn"]
    assert dict(default.config.overrides) == {}
    assert best.config.overrides == {"workers": 4}
    assert best.rps_mean > default.rps_mean


def test_study_figures_match_catalog_names_only() -> None:
    figure = study_figure("granian")
    assert figure is not None
    assert figure.rps == 220
    # No guessing from a name's parts: a config's server is its catalog name.
    assert study_figure("granian-wsgi") is None
    assert study_figure("uwsgi_caddy") is None


def test_display_order_is_the_study_order_then_by_name() -> None:
    servers = ["zeta", "daphne", "alpha", "uwsgi", *reversed(list(STUDY_FIGURES))]
    ordered = sorted(set(servers), key=server_display_key)
    assert ordered == [*STUDY_FIGURES, "alpha", "zeta"]
