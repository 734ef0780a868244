"""The caddy role balancing over several app hosts (caddy_upstream_addresses), as it renders the
Caddyfile on the controller, and the Caddy 2.6 of Debian 12 accepting what it renders.

Every case is a host of one inventory (its variables are host variables), so one playbook run
renders them all; no case connects to its host. The checks that refuse bad settings run the same
way, before anything is rendered.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO_ROOT, ROLES_DIR, ansible_playbook, load_yaml

JSON_CONFIG = Path(__file__).parent / "ansible-json.cfg"

RENDER_PLAYBOOK = """\
- name: Render the Caddyfile of every case
  hosts: cases
  gather_facts: false
  tasks:
    - name: Run the caddy role's checks
      ansible.builtin.include_role:
        name: caddy
        tasks_from: validate
        public: true

    - name: Render the Caddyfile on the controller
      ansible.builtin.template:
        src: "{{ caddyfile_template }}"
        dest: "{{ rendered_dir }}/{{ inventory_hostname }}.Caddyfile"
        mode: "0644"
      delegate_to: localhost
"""

CHECK_PLAYBOOK = """\
- name: Run the caddy role's checks for every case
  hosts: cases
  gather_facts: false
  tasks:
    - name: Run the caddy role's checks
      ansible.builtin.include_role:
        name: caddy
        tasks_from: validate
"""


def _deployment(role: str, port: int, address: str = "") -> dict[str, Any]:
    """A deployment as the app_server role publishes it in app_server_deployed (the keys the
    caddy role reads); address is what the app server binds ('' = every address)."""
    return {
        "name": "gunicorn" if role == "main" else "uvicorn",
        "role": role,
        "address": address,
        "port": port,
        "url": f"http://127.0.0.1:{port}",
        "keepalive_timeout": 5,
        "ready_timeout": 60,
    }


MAIN = _deployment("main", 8000)
ASYNC = _deployment("async", 8001)

# Case name: its host variables.
RENDER_CASES: dict[str, dict[str, Any]] = {
    "single": {"app_server_deployed": [MAIN]},
    "single-served-by": {"app_server_deployed": [MAIN], "caddy_served_by_header": "X-Served-By"},
    "two": {
        "app_server_deployed": [MAIN],
        "caddy_upstream_addresses": ["10.0.0.2", "10.0.0.3"],
        "caddy_served_by_header": "X-Served-By",
    },
    "two-split": {
        "app_server_deployed": [MAIN, ASYNC],
        "caddy_upstream_addresses": ["10.0.0.2", "app2.lab.example"],
        "caddy_served_by_header": "X-Served-By",
    },
    "ipv6-split": {
        "app_server_deployed": [MAIN, ASYNC],
        "caddy_upstream_addresses": ["fd00:10::2", "10.0.0.3"],
        "caddy_lb_policy": "round_robin",
        "caddy_health_interval": "500ms",
        "caddy_fail_duration": "1m30s",
    },
    # One app host behind a proxy host: checked like a pool, so a pool of one and of many
    # behave alike.
    "one-remote": {"app_server_deployed": [MAIN], "caddy_upstream_addresses": ["10.0.0.2"]},
}

# Each route's upstreams, in the order the routes appear (the async route first).
EXPECTED_UPSTREAMS = {
    "single": [["127.0.0.1:8000"]],
    "single-served-by": [["127.0.0.1:8000"]],
    "two": [["10.0.0.2:8000", "10.0.0.3:8000"]],
    "two-split": [
        ["10.0.0.2:8001", "app2.lab.example:8001"],
        ["10.0.0.2:8000", "app2.lab.example:8000"],
    ],
    "ipv6-split": [["[fd00:10::2]:8001", "10.0.0.3:8001"], ["[fd00:10::2]:8000", "10.0.0.3:8000"]],
    "one-remote": [["10.0.0.2:8000"]],
}

POOL_DIRECTIVES = ("lb_policy", "health_uri", "health_interval", "health_timeout", "fail_duration")


def _inventory(cases: dict[str, dict[str, Any]]) -> str:
    """Every case a host of the group cases that cannot be reached, with the case's variables."""
    hosts = {
        name: {
            "ansible_connection": "community.docker.docker",
            "ansible_host": f"dsl-test-{name}-that-does-not-exist",
            **variables,
        }
        for name, variables in cases.items()
    }
    return yaml.safe_dump({"cases": {"hosts": hosts}}, sort_keys=False)


def _environment() -> dict[str, str]:
    return {"ANSIBLE_ROLES_PATH": str(ROLES_DIR)}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each render case's Caddyfile, by case name."""
    work = tmp_path_factory.mktemp("caddy-upstreams")
    (work / "inventory.yml").write_text(_inventory(RENDER_CASES), encoding="utf-8")
    (work / "render.yml").write_text(RENDER_PLAYBOOK, encoding="utf-8")
    extra_vars = {
        "caddyfile_template": str(ROLES_DIR / "caddy" / "templates" / "Caddyfile.j2"),
        "rendered_dir": str(work),
    }
    result = ansible_playbook(
        str(work / "render.yml"),
        *("-i", str(work / "inventory.yml"), "-e", json.dumps(extra_vars)),
        extra_env=_environment(),
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return {name: (work / f"{name}.Caddyfile").read_text(encoding="utf-8") for name in RENDER_CASES}


# A reverse_proxy directive in a handle block: its upstreams, then its block up to the closing
# brace at the handle block's depth plus one.
PROXY_BLOCK = re.compile(r"^\t+reverse_proxy ([^{\n]*) \{\n(.*?)^\t\t\}$", re.M | re.S)


def _proxy_blocks(caddyfile: str) -> list[tuple[list[str], list[str]]]:
    """Each reverse_proxy directive: its upstreams and the stripped lines of its block."""
    blocks = []
    for match in PROXY_BLOCK.finditer(caddyfile):
        lines = [line.strip() for line in match.group(2).splitlines()]
        blocks.append((match.group(1).split(), lines))
    return blocks


@pytest.fixture(scope="session")
def caddy() -> str:
    path = shutil.which("caddy")
    if path is None:
        pytest.fail(
            "caddy is not installed (apt-get install -y caddy; scripts/ensure-host-packages.sh "
            "installs it): the rendered Caddyfiles are checked by Debian 12's Caddy"
        )
    return path


def _caddy(caddy: str, scratch: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run caddy with a scratch home: validating provisions the internal CA in its storage."""
    home = str(scratch)
    return subprocess.run(
        [caddy, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": home, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home},
        timeout=60,
        check=False,
    )


def _validate(caddy: str, tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "Caddyfile"
    config.write_text(text, encoding="utf-8")
    return _caddy(caddy, tmp_path, "validate", "--adapter", "caddyfile", "--config", str(config))


@pytest.mark.parametrize("case", list(RENDER_CASES))
def test_each_route_proxies_to_every_app_host_on_its_deployment_port(
    rendered: dict[str, str], case: str
) -> None:
    upstreams = [upstreams for upstreams, _ in _proxy_blocks(rendered[case])]
    assert upstreams == EXPECTED_UPSTREAMS[case]


@pytest.mark.parametrize("case", ["two", "two-split", "ipv6-split", "one-remote"])
def test_a_pool_checks_its_app_hosts_actively_and_passively(
    rendered: dict[str, str], case: str
) -> None:
    variables = RENDER_CASES[case]
    expected = {
        "lb_policy": variables.get("caddy_lb_policy", "least_conn"),
        "health_uri": "/api/health",
        "health_interval": variables.get("caddy_health_interval", "2s"),
        "health_timeout": "5s",
        "fail_duration": variables.get("caddy_fail_duration", "10s"),
        "max_fails": "3",
        "unhealthy_status": "5xx",
        # The app checks Host against its allowed hosts: it gets the app host's address.
        "header_up": "Host {upstream_hostport}",
        "lb_try_duration": "5s",
    }
    for _, lines in _proxy_blocks(rendered[case]):
        settings = dict(line.split(" ", 1) for line in lines if " " in line and line[0] != "#")
        assert {key: settings.get(key) for key in expected} == expected
        # Upstream keep-alive stays as on a single host.
        assert "keepalive 4s" in lines
        assert "keepalive_idle_conns_per_host 256" in lines


@pytest.mark.parametrize("case", ["single", "single-served-by"])
def test_a_single_host_has_no_pool_settings(rendered: dict[str, str], case: str) -> None:
    for _, lines in _proxy_blocks(rendered[case]):
        assert not [line for line in lines if line.startswith(POOL_DIRECTIVES)]


@pytest.mark.parametrize(
    ("case", "header"),
    [("single", None), ("single-served-by", "X-Served-By"), ("two", "X-Served-By")],
)
def test_the_served_by_header_names_the_app_host_that_answered(
    rendered: dict[str, str], case: str, header: str | None
) -> None:
    for _, lines in _proxy_blocks(rendered[case]):
        header_down = [line for line in lines if line.startswith("header_down")]
        expected = [f"header_down {header} {{http.reverse_proxy.upstream.hostport}}"]
        assert header_down == (expected if header else [])


@pytest.mark.parametrize("case", list(RENDER_CASES))
def test_caddy_accepts_the_rendered_caddyfile(
    rendered: dict[str, str], case: str, caddy: str, tmp_path: Path
) -> None:
    validated = _validate(caddy, tmp_path, rendered[case])
    assert validated.returncode == 0, validated.stderr[-2000:]
    # Formatted as `caddy fmt` writes it: tabs, one directive a line.
    formatted = _caddy(caddy, tmp_path, "fmt", str(tmp_path / "Caddyfile"))
    assert formatted.returncode == 0, formatted.stderr[-2000:]
    assert formatted.stdout == rendered[case]


def test_caddy_accepts_every_policy_the_role_offers(
    rendered: dict[str, str], caddy: str, tmp_path: Path
) -> None:
    specs = load_yaml(ROLES_DIR / "caddy" / "meta" / "argument_specs.yml")
    policies = specs["argument_specs"]["main"]["options"]["caddy_lb_policy"]["choices"]
    for policy in policies:
        text = rendered["two"].replace("lb_policy least_conn", f"lb_policy {policy}")
        validated = _validate(caddy, tmp_path, text)
        assert validated.returncode == 0, f"{policy}: {validated.stderr[-2000:]}"


# Case name: (host variables, phrases the refusal names).
REFUSED: dict[str, tuple[dict[str, Any], list[str]]] = {
    "scheme": (
        {"caddy_upstream_addresses": ["http://10.0.0.2"]},
        ["'http://10.0.0.2' is not the address of an app host", "no scheme, port or path"],
    ),
    "port": ({"caddy_upstream_addresses": ["10.0.0.2:8000"]}, ["'10.0.0.2:8000'", "(fd00::2)"]),
    "path": ({"caddy_upstream_addresses": ["app1.example.org/app"]}, ["'app1.example.org/app'"]),
    "empty": ({"caddy_upstream_addresses": ["10.0.0.2", ""]}, ["caddy_upstream_addresses: ''"]),
    "brackets": ({"caddy_upstream_addresses": ["[fd00::2]"]}, ["'[fd00::2]'", "without brackets"]),
    "twice": ({"caddy_upstream_addresses": ["10.0.0.2", "10.0.0.2"]}, ["or is given twice"]),
    "policy": (
        # Caddy 2.7's, unknown to 2.6.
        {"caddy_lb_policy": "weighted_round_robin"},
        ["caddy_lb_policy='weighted_round_robin' is not one of least_conn, round_robin"],
    ),
    "header": (
        {"caddy_served_by_header": "X Served By"},
        ["caddy_served_by_header='X Served By' is not a header name", "X-Served-By"],
    ),
    "header-operator": ({"caddy_served_by_header": "-Server"}, ["'-Server' is not a header name"]),
    "interval": (
        {"caddy_health_interval": "2"},
        ["caddy_health_interval='2' is not a duration", "500ms, 2s or 1m30s"],
    ),
    "timeout-zero": ({"caddy_health_timeout": "0s"}, ["caddy_health_timeout='0s'"]),
    "fail-duration": ({"caddy_fail_duration": "soon"}, ["caddy_fail_duration='soon'"]),
    "health-uri": ({"caddy_health_uri": "api/health"}, ["caddy_health_uri='api/health'"]),
    "max-fails": ({"caddy_max_fails": 0}, ["caddy_max_fails=0 a count from 1 to 10000"]),
    "loopback-app-server": (
        {
            "app_server_deployed": [_deployment("main", 8000, "127.0.0.1")],
            "caddy_upstream_addresses": ["10.0.0.2", "10.0.0.3"],
        },
        ['["10.0.0.2", "10.0.0.3"] reach the app servers from', "listen on 127.0.0.1"],
    ),
}


@pytest.fixture(scope="module")
def refusals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """The messages of the checks that failed, by case."""
    work = tmp_path_factory.mktemp("caddy-refusals")
    cases = {
        name: {"app_server_deployed": [MAIN], **refused[0]} for name, refused in REFUSED.items()
    }
    # A good pool passes every check: the refusals come from the bad values alone.
    cases["good"] = RENDER_CASES["ipv6-split"]
    (work / "inventory.yml").write_text(_inventory(cases), encoding="utf-8")
    (work / "check.yml").write_text(CHECK_PLAYBOOK, encoding="utf-8")
    result = ansible_playbook(
        str(work / "check.yml"),
        *("-i", str(work / "inventory.yml")),
        extra_env={**_environment(), "ANSIBLE_CONFIG": str(JSON_CONFIG)},
    )
    document = json.loads(result.stdout)
    messages: dict[str, list[str]] = {name: [] for name in cases}
    for task in document["plays"][0]["tasks"]:
        for host, outcome in task["hosts"].items():
            failed = [outcome, *outcome.get("results", [])]
            messages[host] += [str(item["msg"]) for item in failed if item.get("failed")]
    return messages


def test_good_pool_settings_pass_the_checks(refusals: dict[str, list[str]]) -> None:
    assert refusals["good"] == []


@pytest.mark.parametrize("case", list(REFUSED))
def test_bad_pool_settings_are_refused_naming_the_value(
    refusals: dict[str, list[str]], case: str
) -> None:
    messages = refusals[case]
    assert messages, f"{case}: {REFUSED[case][0]} passed the checks"
    text = " ".join(" ".join(messages).split())
    for phrase in REFUSED[case][1]:
        assert phrase in text


def test_the_policies_offered_exist_in_debian_caddy(caddy: str, tmp_path: Path) -> None:
    listed = _caddy(caddy, tmp_path, "list-modules")
    assert listed.returncode == 0, listed.stderr[-2000:]
    modules = set(listed.stdout.split())
    specs = load_yaml(REPO_ROOT / "roles" / "caddy" / "meta" / "argument_specs.yml")
    for policy in specs["argument_specs"]["main"]["options"]["caddy_lb_policy"]["choices"]:
        assert f"http.reverse_proxy.selection_policies.{policy}" in modules
