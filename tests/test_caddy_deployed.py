"""The caddy role's published caddy_deployed, as the plays compute it before any host changes.

The benchmark reads its URLs and a firewall its public ports, so the ports Caddy opens to the
network follow the inventory (load hosts) and the layout. The role's own checks run for a host
that cannot be reached: they need no connection.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO_ROOT, UNREACHABLE_INVENTORY, ansible_playbook

PLAYBOOK = """\
- name: Publish caddy_deployed
  hosts: lab
  gather_facts: false
  tasks:
    - name: Run the caddy role's checks
      ansible.builtin.include_role:
        name: caddy
        tasks_from: validate

    - name: Write what it published on the controller
      ansible.builtin.copy:
        content: "{{ caddy_deployed | to_json }}"
        dest: "{{ published_file }}"
        mode: "0644"
      delegate_to: localhost
"""

LOADGEN_GROUP = """\
loadgen:
  hosts:
    load-nowhere:
      ansible_connection: community.docker.docker
      ansible_host: dsl-test-load-host-that-does-not-exist
"""

CASES = [
    # (inventory has load hosts, extra vars, public TCP ports)
    (False, {}, [443]),
    (True, {}, [443, 8080]),
    (False, {"caddy_http_public": True}, [443, 8080]),
    (True, {"caddy_http_public": False}, [443]),
    # Without the plain-HTTP site Caddy redirects HTTP to HTTPS on port 80, on every address.
    (False, {"layout_http_port": 0}, [443, 80]),
    (False, {"layout_https_port": 8443}, [8443]),
]


def _caddy_deployed(tmp_path: Path, loadgen: bool, extra_vars: dict[str, Any]) -> Any:
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(UNREACHABLE_INVENTORY + (LOADGEN_GROUP if loadgen else ""))
    playbook = tmp_path / "publish.yml"
    playbook.write_text(PLAYBOOK)
    published = tmp_path / "caddy_deployed.json"
    result = ansible_playbook(
        str(playbook),
        *("-i", str(inventory), "-e", json.dumps({"published_file": str(published), **extra_vars})),
        extra_env={"ANSIBLE_ROLES_PATH": str(REPO_ROOT / "roles")},
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return json.loads(published.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("loadgen", "extra_vars", "public_ports"),
    CASES,
    ids=[f"loadgen={case[0]}-{case[1]}" for case in CASES],
)
def test_caddy_publishes_the_ports_it_opens_to_the_network(
    tmp_path: Path, loadgen: bool, extra_vars: dict[str, Any], public_ports: list[int]
) -> None:
    deployed = _caddy_deployed(tmp_path, loadgen, {"caddy_enabled": True, **extra_vars})
    assert deployed["public_ports"] == public_ports
    assert deployed["public_udp_ports"] == []
    # The benchmark's URLs stay on loopback: a load host reaches the target by its address.
    http_port = extra_vars.get("layout_http_port", 8080)
    assert deployed["http_url"] == (f"http://127.0.0.1:{http_port}" if http_port else "")
    assert deployed["https_url"] == f"https://127.0.0.1:{extra_vars.get('layout_https_port', 443)}"
    assert (deployed["name"], deployed["service"]) == ("caddy", "caddy.service")


def test_http3_opens_the_https_port_over_udp(tmp_path: Path) -> None:
    deployed = _caddy_deployed(tmp_path, False, {"caddy_enabled": True, "caddy_http3": True})
    assert deployed["public_udp_ports"] == [443]


def test_caddy_off_publishes_nothing(tmp_path: Path) -> None:
    assert _caddy_deployed(tmp_path, True, {"caddy_enabled": False}) == {}
