"""Bad input is refused with a clear message before any host changes.

Each case runs the real site.yml against an inventory whose only host cannot be reached: if a
check let bad input through, the next play would fail to connect rather than change anything,
and the expected message would be missing.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO_ROOT, UNREACHABLE_INVENTORY, ansible_playbook, load_yaml

# The bad inputs and the phrases each must be refused with, by playbook (also listed in
# docs/security.md by scripts/derive.py).
BENCHMARK = "playbooks/benchmark.yml"
BAD_INPUTS: dict[str, list[dict[str, Any]]] = load_yaml(
    REPO_ROOT / "tests" / "data" / "bad_inputs.yml"
)


def _cases(playbook: str) -> list[Any]:
    return [
        pytest.param(
            case.get("inventory", ""),
            case["vars"],
            case["refused_with"],
            id=json.dumps(case["vars"]),
        )
        for case in BAD_INPUTS[playbook]
    ]


LOADGEN_INVENTORY = (
    UNREACHABLE_INVENTORY
    + """\
loadgen:
  hosts:
    load-nowhere:
      ansible_connection: community.docker.docker
      ansible_host: dsl-test-load-host-that-does-not-exist
"""
)


def _unreachable(name: str) -> str:
    return (
        f"    {name}:\n      ansible_connection: community.docker.docker\n"
        f"      ansible_host: dsl-test-{name}-that-does-not-exist\n"
    )


# Inventories of several parts (the topology role's groups), every host unreachable.
TOPOLOGIES = {
    "db-without-app": f"db:\n  hosts:\n{_unreachable('data-nowhere')}",
    "proxy-without-app": f"proxy:\n  hosts:\n{_unreachable('proxy-nowhere')}",
    "two-app-hosts": (
        f"app:\n  hosts:\n{_unreachable('nowhere')}{_unreachable('app-nowhere-2')}"
        f"cache:\n  hosts:\n{_unreachable('data-nowhere')}"
    ),
    "two-app-hosts-no-cache": (
        f"app:\n  hosts:\n{_unreachable('nowhere')}{_unreachable('app-nowhere-2')}"
        f"db:\n  hosts:\n{_unreachable('data-nowhere')}"
    ),
    "app-without-proxy": (
        f"app:\n  hosts:\n{_unreachable('nowhere')}cache:\n  hosts:\n{_unreachable('data-nowhere')}"
    ),
    "unreachable-db": (
        f"app:\n  hosts:\n{_unreachable('nowhere')}db:\n  hosts:\n{_unreachable('data-nowhere')}"
    ),
}
INVENTORIES = {"": UNREACHABLE_INVENTORY, "loadgen": LOADGEN_INVENTORY, **TOPOLOGIES}


def _changing_play(playbook: str) -> str:
    """The play header after the checks play: the first one that changes hosts."""
    plays = load_yaml(REPO_ROOT / playbook)
    return f"PLAY [{plays[1]['name']}]"


def _run_site(
    tmp_path: Path, extra_vars: dict[str, object], inventory_text: str = UNREACHABLE_INVENTORY
) -> subprocess.CompletedProcess[str]:
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(inventory_text)
    return ansible_playbook(
        str(REPO_ROOT / "site.yml"), "-i", str(inventory), "-e", json.dumps(extra_vars)
    )


def _assert_refused_by_checks(
    result: subprocess.CompletedProcess[str],
    expected: list[str],
    changing_play: str,
    contacted: bool = False,
) -> None:
    """The run failed with every expected phrase, in the checks play: the play that changes
    hosts never started and no host was contacted."""
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for words in expected:
        assert words in output, output[-3000:]
    assert changing_play not in output
    # Only the check that the db host answers contacts a host (and finds it unreachable).
    assert contacted or "UNREACHABLE" not in output


@pytest.mark.parametrize(("inventory", "extra_vars", "expected"), _cases("site.yml"))
def test_bad_input_is_refused_before_any_change(
    tmp_path: Path, inventory: str, extra_vars: dict[str, object], expected: list[str]
) -> None:
    result = _run_site(tmp_path, extra_vars, INVENTORIES[inventory])
    _assert_refused_by_checks(
        result, expected, _changing_play("site.yml"), contacted=inventory == "unreachable-db"
    )


def test_lab_refuses_to_start_without_docker(tmp_path: Path) -> None:
    result = ansible_playbook(
        str(REPO_ROOT / "playbooks" / "lab.yml"),
        extra_env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "No Docker engine answers" in output, output[-3000:]
    assert "Start the lab containers" not in output


@pytest.mark.parametrize(("inventory", "extra_vars", "expected"), _cases(BENCHMARK))
def test_bad_benchmark_input_is_refused_before_any_change(
    tmp_path: Path, inventory: str, extra_vars: dict[str, object], expected: list[str]
) -> None:
    inventory_file = tmp_path / "inventory.yml"
    inventory_file.write_text(INVENTORIES[inventory])
    result = ansible_playbook(
        str(REPO_ROOT / BENCHMARK), *("-i", str(inventory_file), "-e", json.dumps(extra_vars))
    )
    _assert_refused_by_checks(result, expected, _changing_play(BENCHMARK))


# A load host outside the loadgen group (the target picked with --limit): Caddy's plain-HTTP site
# stays on loopback, where the load host cannot reach it.
OTHER_HOST_INVENTORY = (
    UNREACHABLE_INVENTORY
    + """\
others:
  hosts:
    load-elsewhere:
      ansible_connection: community.docker.docker
      ansible_host: dsl-test-load-host-that-does-not-exist
"""
)


def _run_benchmark_from_elsewhere(
    tmp_path: Path, extra_vars: dict[str, object]
) -> subprocess.CompletedProcess[str]:
    inventory_file = tmp_path / "inventory.yml"
    inventory_file.write_text(OTHER_HOST_INVENTORY)
    return ansible_playbook(
        str(REPO_ROOT / BENCHMARK),
        *("-i", str(inventory_file), "--limit", "nowhere"),
        *("-e", json.dumps({"benchmark_load_host": "load-elsewhere", **extra_vars})),
    )


def test_load_host_outside_loadgen_needs_caddys_site_opened(tmp_path: Path) -> None:
    result = _run_benchmark_from_elsewhere(tmp_path, {"caddy": True})
    _assert_refused_by_checks(
        result,
        ["wrk runs on load-elsewhere", "listens on loopback only", "caddy_http_public=true"],
        _changing_play(BENCHMARK),
    )


@pytest.mark.parametrize(
    "extra_vars",
    [{"caddy": True, "caddy_http_public": True}, {"app_server_bind_address": "0.0.0.0"}],
    ids=["caddy-opened", "server-on-the-network"],
)
def test_load_host_outside_loadgen_passes_the_checks_when_it_can_reach_the_target(
    tmp_path: Path, extra_vars: dict[str, object]
) -> None:
    """The checks pass (the deploy play starts and cannot reach the host), Caddy on or off."""
    result = _run_benchmark_from_elsewhere(tmp_path, extra_vars)
    assert _changing_play(BENCHMARK) in result.stdout, result.stdout[-3000:]


GOOD_INPUT = {
    "caddy": True,
    "caddy_domain": "lab-1.example.org",
    "caddy_acme_email": "ops+certs@example.org",
    "layout_app_root": "/opt/django_server-lab.v2",
    "layout_app_user": "dsl_app",
    "django_app_keep_releases": 1,
    "app_profile": "study",
    "app_server_bind_address": "::",
    "firewall_app_sources": ["nowhere", "192.0.2.7", "2001:db8::/32"],
    "firewall_allowed": [{"port": 9100, "protocol": "udp", "sources": ["10.0.0.0/8"]}],
    "firewall_ssh_ports": [22, 2222],
}


def test_good_input_passes_the_checks(tmp_path: Path) -> None:
    """The checks are not stricter than they say: unusual but valid values reach the deploy."""
    output = _run_site(tmp_path, GOOD_INPUT)
    text = output.stdout + output.stderr
    assert _changing_play("site.yml") in text, text[-3000:]
