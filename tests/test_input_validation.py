"""Bad input is refused with a clear message before any host changes.

Each case runs the real site.yml against an inventory whose only host cannot be reached: if a
check let bad input through, the next play would fail to connect rather than change anything,
and the expected message would be missing.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import CATALOG, REPO_ROOT, UNREACHABLE_INVENTORY, ansible_playbook

CASES = [
    # (extra vars, words the error must contain)
    ({"server": "nginx"}, ["nginx", ", ".join(CATALOG)]),
    ({"server": ""}, ["app_server_name must be one of", "got: \n"]),
    ({"layout_app_port": "eighty"}, ["layout_app_port", "int"]),
    (
        {"server": "uwsgi", "app_server_interface": "asgi"},
        ["cannot serve interface 'asgi'", "wsgi"],
    ),
    ({"server": "uwsgi", "async_server": "gunicorn"}, ["app_server_async_name", "gunicorn"]),
    ({"server": "granian", "async_server": "granian"}, ["must differ from 'granian'"]),
    ({"server": "uwsgi", "async_server": "granian"}, ["async_server=granian needs Caddy"]),
    ({"caddy": True, "layout_http_port": 443}, ["share a port", "layout_http_port=443"]),
    ({"layout_async_port": 6379}, ["share a port", "layout_redis_port=6379"]),
    ({"layout_app_port": 80}, ["layout_app_port=80 is out of range (1024..65535)", "unprivileged"]),
    (
        {"app_server_knobs": {"wokers": 2}},
        ["app_server_knobs names wokers", "which no server takes"],
    ),
    ({"caddy": True, "caddy_admin_address": "0.0.0.0:2019"}, ["admin API beyond this host"]),
    ({"app_server_listen_backlog": 100000}, ["above net.core.somaxconn", "100000"]),
    ({"redis_maxmemory_policy": "forget-everything"}, ["redis_maxmemory_policy", "allkeys-lru"]),
    ({"django_app_seed_movies": "lots"}, ["django_app_seed_movies", "int"]),
    ({"app_server_log_level": "loud"}, ["app_server_log_level", "warning"]),
    ({"app_server_workers": -2}, ["app_server_workers", "-2"]),
    ({"layout_app_port": 70000}, ["layout_app_port=70000 is out of range"]),
    ({"redis_password_length": 16}, ["redis_password_length=16 is below the minimum of 32"]),
    (
        {"django_app_secret_key_length": 20},
        ["django_app_secret_key_length=20 is below the minimum of 50"],
    ),
    ({"django_app_keep_releases": 0}, ["django_app_keep_releases=0: at least 1"]),
    (
        {"layout_app_root": "/srv/my app"},
        ["layout_app_root='/srv/my app' must be an absolute path"],
    ),
    ({"layout_config_dir": "etc/dsl"}, ["layout_config_dir='etc/dsl' must be an absolute path"]),
    ({"layout_app_user": "Django User"}, ["layout_app_user='Django User' must be a system name"]),
    ({"redis_password_file": "pw.txt"}, ["redis_password_file='pw.txt' must be an absolute path"]),
    (
        {"caddy": True, "caddy_domain": "example.com { respond 200 }"},
        ["caddy_domain='example.com { respond 200 }' must be a DNS name"],
    ),
    ({"caddy": True, "caddy_acme_email": "webmaster"}, ["caddy_acme_email='webmaster'"]),
    ({"firewall_ssh_ports": [22, 70000]}, ["firewall_ssh_ports lists port 70000", "(1..65535)"]),
    ({"firewall_allowed": [{"port": 0}]}, ["firewall_allowed lists port 0, which is out of range"]),
    ({"firewall_allowed": [{"port": 9100, "protocol": "icmp"}]}, ["protocol", "icmp", "tcp, udp"]),
    (
        {"firewall_app_sources": ["load-1.example"]},
        ["firewall_app_sources lists 'load-1.example'", "neither a host of this inventory"],
    ),
    (
        {"firewall_app_sources": ["10.0.0.5/8"]},
        ["firewall_app_sources lists '10.0.0.5/8'", "host bits zero"],
    ),
    (
        {"firewall_allowed": [{"port": 9100, "sources": ["192.0.2.300"]}]},
        ["firewall_allowed lists the source '192.0.2.300' for port 9100"],
    ),
    (
        {"firewall_allowed": [{"port": 6379, "sources": ["10.0.0.0/8"]}]},
        ["firewall_allowed opens port 6379, Redis's", "never reachable from another host"],
    ),
    ({"firewall_confirm_timeout": 2}, ["firewall_confirm_timeout=2 is out of range"]),
    ({"firewall": "maybe"}, ["firewall_enabled", "maybe"]),
    ({"base_reserved_ports": [8000, 65536]}, ["base_reserved_ports lists 65536"]),
]


def _run_site(tmp_path: Path, extra_vars: dict[str, object]) -> subprocess.CompletedProcess[str]:
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(UNREACHABLE_INVENTORY)
    return ansible_playbook(
        str(REPO_ROOT / "site.yml"), "-i", str(inventory), "-e", json.dumps(extra_vars)
    )


def _assert_refused_by_checks(
    result: subprocess.CompletedProcess[str], expected: list[str], changing_play: str
) -> None:
    """The run failed with every expected phrase, in the checks play: the play that changes
    hosts never started and no host was contacted."""
    output = result.stdout + result.stderr
    assert result.returncode != 0
    for words in expected:
        assert words in output, output[-3000:]
    assert changing_play not in output
    assert "UNREACHABLE" not in output


@pytest.mark.parametrize(("extra_vars", "expected"), CASES, ids=[str(case[0]) for case in CASES])
def test_bad_input_is_refused_before_any_change(
    tmp_path: Path, extra_vars: dict[str, object], expected: list[str]
) -> None:
    result = _run_site(tmp_path, extra_vars)
    _assert_refused_by_checks(result, expected, "PLAY [Deploy Django Server Lab]")


def test_lab_refuses_to_start_without_docker(tmp_path: Path) -> None:
    result = ansible_playbook(
        str(REPO_ROOT / "playbooks" / "lab.yml"),
        extra_env={"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "No Docker engine answers" in output, output[-3000:]
    assert "Start the lab containers" not in output


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

BENCHMARK_CASES = [
    # (inventory, extra vars, words the error must contain)
    (
        UNREACHABLE_INVENTORY,
        {"servers": "uwsgi,nginx"},
        ["that each name a server of the catalog", "nginx"],
    ),
    (
        UNREACHABLE_INVENTORY,
        {"configs": [{"server": "uwsgi", "blocking_threads": 4}]},
        ['{"server": "uwsgi", "blocking_threads": 4}: uwsgi takes the knobs'],
    ),
    (UNREACHABLE_INVENTORY, {"benchmark_rounds": 0}, ["benchmark_rounds (0) must be 1 to 20"]),
    (UNREACHABLE_INVENTORY, {"benchmark_duration": "2h"}, ["benchmark_duration=2h", "1s to 1h"]),
    (
        UNREACHABLE_INVENTORY,
        {"benchmark_connections": 50000},
        ["connections (50000) from the threads to 20000"],
    ),
    (UNREACHABLE_INVENTORY, {"configs": "uwsgi"}, ["must be a list of objects", '"uwsgi"']),
    (UNREACHABLE_INVENTORY, {"benchmark_duration": "soon"}, ["benchmark_duration=soon"]),
    (
        UNREACHABLE_INVENTORY,
        {"benchmark_load_host": "elsewhere"},
        ["benchmark_load_host=elsewhere is not a host of this inventory"],
    ),
    (LOADGEN_INVENTORY, {}, ["wrk runs on load-nowhere", "listens on 127.0.0.1 only"]),
    (
        UNREACHABLE_INVENTORY,
        {"caddy": True, "layout_http_port": 0},
        ["layout_http_port=0 removes Caddy's plain-HTTP site"],
    ),
]


@pytest.mark.parametrize(
    ("inventory", "extra_vars", "expected"),
    BENCHMARK_CASES,
    ids=[str(case[1]) if case[1] else "loadgen-without-caddy" for case in BENCHMARK_CASES],
)
def test_bad_benchmark_input_is_refused_before_any_change(
    tmp_path: Path, inventory: str, extra_vars: dict[str, object], expected: list[str]
) -> None:
    inventory_file = tmp_path / "inventory.yml"
    inventory_file.write_text(inventory)
    result = ansible_playbook(
        str(REPO_ROOT / "playbooks" / "benchmark.yml"),
        *("-i", str(inventory_file), "-e", json.dumps(extra_vars)),
    )
    _assert_refused_by_checks(result, expected, "PLAY [Deploy the app with every server's package")


GOOD_INPUT = {
    "caddy": True,
    "caddy_domain": "lab-1.example.org",
    "caddy_acme_email": "ops+certs@example.org",
    "layout_app_root": "/opt/django_server-lab.v2",
    "layout_app_user": "dsl_app",
    "django_app_keep_releases": 1,
    "firewall_app_sources": ["nowhere", "192.0.2.7", "2001:db8::/32"],
    "firewall_allowed": [{"port": 9100, "protocol": "udp", "sources": ["10.0.0.0/8"]}],
    "firewall_ssh_ports": [22, 2222],
}


def test_good_input_passes_the_checks(tmp_path: Path) -> None:
    """The checks are not stricter than they say: unusual but valid values reach the deploy."""
    output = _run_site(tmp_path, GOOD_INPUT)
    text = output.stdout + output.stderr
    assert "PLAY [Deploy Django Server Lab]" in text, text[-3000:]
