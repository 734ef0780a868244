"""Each unit's resource limits follow from its workers, threads and the host's memory, with the
role's defaults as the budget; the bind address decides the IP allow list's default."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import APP_SERVER_ROLE, CATALOG, load_filter_plugin, load_yaml

FILTERS = load_filter_plugin()
DEFAULTS: dict[str, Any] = load_yaml(APP_SERVER_ROLE / "defaults" / "main.yml")
# The budget the role passes (vars/main.yml: app_server_limit_budget), from its defaults.
BUDGET_KEYS = load_yaml(APP_SERVER_ROLE / "vars" / "main.yml")["app_server_limit_budget"]
BUDGET = {key: DEFAULTS[f"app_server_{key}"] for key in BUDGET_KEYS}
# The published study's VM and this machine's lab containers report more than enough memory.
LARGE_HOST_MB = 16384


def _deployments(*names: str, vcpus: int = 2) -> list[dict[str, Any]]:
    requests = [
        {"name": name, "role": "main" if index == 0 else "async", "port": 8000 + index}
        | {"interface": "" if index == 0 else "asgi"}
        for index, name in enumerate(names)
    ]
    return FILTERS.app_server_deployments(
        requests,
        CATALOG,
        vcpus,
        {},
        bind_address="127.0.0.1",
        settings={"backlog": 1024},
        timeouts={"ready": 60},
    )


def _limits(deployments: list[dict[str, Any]], memtotal_mb: int, **budget: int) -> list[Any]:
    planned = FILTERS.app_server_unit_limits(deployments, memtotal_mb, BUDGET | budget)
    return [deployment["limits"] for deployment in planned]


@pytest.mark.parametrize("server", list(CATALOG))
def test_budget_grows_with_workers_and_threads(server: str) -> None:
    (small,) = _limits(_deployments(server, vcpus=1), LARGE_HOST_MB)
    (large,) = _limits(_deployments(server, vcpus=4), LARGE_HOST_MB)
    (knobs,) = [deployment["knobs"] for deployment in _deployments(server, vcpus=4)]
    per_worker = BUDGET["memory_per_worker_mb"] + knobs["threads"] * BUDGET["memory_per_thread_mb"]
    assert large["memory_max_mb"] == BUDGET["memory_base_mb"] + knobs["workers"] * per_worker
    assert large["tasks_max"] == BUDGET["tasks_base"] + knobs["workers"] * (
        BUDGET["tasks_per_worker"] + knobs["threads"]
    )
    assert large["memory_high_mb"] == large["memory_max_mb"] * BUDGET["memory_high_percent"] // 100
    if CATALOG[server]["scales"] == "workers":
        assert large["memory_max_mb"] > small["memory_max_mb"]
        assert large["tasks_max"] > small["tasks_max"]
    else:  # more instances, each a unit of one process
        assert large == small


def test_host_memory_caps_all_units_together() -> None:
    deployments = _deployments("uwsgi", "daphne")
    units = sum(int(deployment["knobs"]["instances"]) for deployment in deployments)
    host_mb = 1024
    limits = _limits(deployments, host_mb)
    cap = host_mb * BUDGET["memory_host_percent"] // 100 // units
    assert [limit["memory_max_mb"] for limit in limits] == [cap, cap]
    assert sum(limit["memory_max_mb"] for limit in limits) <= host_mb


def test_unknown_host_memory_leaves_the_budget_uncapped() -> None:
    assert _limits(_deployments("gunicorn"), 0) == _limits(_deployments("gunicorn"), LARGE_HOST_MB)


def test_overrides_replace_the_computed_limits() -> None:
    (limits,) = _limits(_deployments("granian"), LARGE_HOST_MB, memory_max_mb=700, tasks_max=50)
    assert limits == {
        "memory_max_mb": 700,
        "memory_high_mb": 700 * BUDGET["memory_high_percent"] // 100,
        "tasks_max": 50,
    }


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("", False),
    ],
)
def test_loopback_addresses(address: str, loopback: bool) -> None:
    assert FILTERS.app_server_is_loopback(address) is loopback
