"""What every converged host must show, whatever server it runs."""

from __future__ import annotations

from testinfra.host import Host

import json
import os
import shlex

import testinfra.utils.ansible_runner

from conftest import CATALOG, LAYOUT, Deployment, http_get, role_file, standalone_value

# The deployed hosts (a load generator of the scenario is never deployed to).
testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("lab")
REDIS_DEFAULTS = role_file("redis", "defaults", "main.yml")
# Bind addresses that mean every address of the host.
EVERY_ADDRESS = ("0.0.0.0", "::")

# The issue: healthy again within 5 s after kill -9 of the main process.
KILL_RECOVERY_MS = 5000
# Servers that serve the app through ASGI by default, WebSockets included.
ASGI_SERVERS = {name for name, entry in CATALOG.items() if entry["interfaces"][0] == "asgi"}


def test_units_active_and_enabled(host: Host, deployment: Deployment) -> None:
    assert deployment.units, f"no django-{deployment.server}@ units on the host"
    for unit in deployment.units:
        service = host.service(unit)
        assert service.is_running, unit
        assert service.is_enabled, unit


def test_only_the_chosen_server_has_units(host: Host, deployment: Deployment) -> None:
    listed = host.check_output(
        "systemctl list-units --all --plain --no-legend 'django-*' | awk '{print $1}'"
    )
    others = [unit for unit in listed.split() if not unit.startswith(f"django-{deployment.server}")]
    assert others == []


def test_listens_on_its_bind_address_only(host: Host, deployment: Deployment) -> None:
    assert host.socket(f"tcp://{deployment.address}:{deployment.port}").is_listening
    if deployment.address not in EVERY_ADDRESS:
        for everywhere in EVERY_ADDRESS:
            assert not host.socket(f"tcp://{everywhere}:{deployment.port}").is_listening


def test_health(host: Host, deployment: Deployment) -> None:
    response = http_get(host, f"{deployment.base_url}/api/health")
    assert response.status == 200
    body = response.json()
    assert {key: body[key] for key in ("status", "status_code")} == {
        "status": "healthy",
        "status_code": 200,
    }
    assert response.headers.get("x-app-server") == deployment.server
    # The release that answers is the current one, and the header says so too.
    current = host.file(LAYOUT["layout_app_root"] + "/current").linked_to
    assert body["release"] == current.rsplit("/", 1)[-1] == response.headers.get("x-app-release")


def test_health_sync_checks_database_and_redis(host: Host, deployment: Deployment) -> None:
    response = http_get(host, f"{deployment.base_url}/api/health/sync")
    assert response.status == 200, response.body
    body = response.json()
    assert body["checks"] == {"database": "ok", "redis": "ok"}
    assert body["status_code"] == 200
    assert body["system"]["hostname"]
    assert body["system"]["uptime"] > 0


def test_health_async_checks_database_and_redis(host: Host, deployment: Deployment) -> None:
    response = http_get(host, f"{deployment.base_url}/api/health/async")
    assert response.status == 200, response.body
    assert response.json()["checks"] == {"database": "ok", "redis": "ok"}


def test_movies_are_seeded_and_paginated(host: Host, deployment: Deployment) -> None:
    response = http_get(host, f"{deployment.base_url}/api/demo/movies?limit=5&offset=10")
    assert response.status == 200, response.body
    body = response.json()
    assert body["count"] == 200
    assert len(body["items"]) == 5
    assert {"title", "year", "rating"} <= set(body["items"][0])
    bad = http_get(host, f"{deployment.base_url}/api/demo/movies?limit=1000")
    assert bad.status == 422


def test_static_files_are_served(host: Host, deployment: Deployment) -> None:
    response = http_get(host, f"{deployment.base_url}/static/css/site.css")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/css")
    index = http_get(host, f"{deployment.base_url}/")
    assert index.status == 200
    assert "/static/css/site.css" in index.body


def test_websocket_echo_on_asgi_servers(host: Host, deployment: Deployment, probes: str) -> None:
    if deployment.server not in ASGI_SERVERS:
        # WSGI servers (and Granian on its default WSGI interface) have no WebSocket: the
        # handshake must be refused, not hang.
        output = host.run(f"timeout 15 python3 {probes}/ws_echo.py {deployment.ws_url}/ws/echo hi")
        assert output.rc == 0, output.stderr
        assert json.loads(output.stdout)["status"] != 101
        return
    output = host.check_output(
        f"timeout 15 python3 {probes}/ws_echo.py {deployment.ws_url}/ws/echo hello-lab"
    )
    result = json.loads(output)
    assert result["status"] == 101
    assert result["echo"] == "hello-lab"


def test_every_keepalive_connection_is_served(
    host: Host, deployment: Deployment, probes: str
) -> None:
    output = host.check_output(
        f"python3 {probes}/fairness_probe.py --url {deployment.base_url}/api/health"
        " --connections 200 --duration 4"
    )
    result = json.loads(output)
    assert result["connections"] == 200
    assert result["answered_connections"] == 200, result


def _main_pid(host: Host, unit: str) -> int:
    return int(host.check_output(f"systemctl show --property MainPID --value {unit}"))


def test_restarts_after_kill_9_within_5_seconds(host: Host, deployment: Deployment) -> None:
    """kill -9 of the main process, then healthy again (200 from a new main process) in 5 s.

    The clock runs on the host, in one shell, so the time Ansible or SSH take to carry each
    command is not counted; the loop gives up after 30 s to report how long it really took.
    """
    unit = deployment.units[0]
    script = f"""
        set -u
        unit={unit}
        old=$(systemctl show --property MainPID --value "$unit")
        [ "$old" -gt 0 ] || {{ echo "no main process"; exit 2; }}
        kill -9 "$old"
        start=$(date +%s%N)
        while :; do
            elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
            code=$(curl --silent --max-time 1 --output /dev/null --write-out '%{{http_code}}' \
                {deployment.base_url}/api/health || true)
            new=$(systemctl show --property MainPID --value "$unit")
            if [ "$code" = 200 ] && [ "$new" -gt 0 ] && [ "$new" != "$old" ]; then
                echo "$elapsed"; exit 0
            fi
            [ "$elapsed" -lt 30000 ] || {{ echo "$elapsed"; exit 1; }}
            sleep 0.1
        done
    """
    with host.sudo():
        result = host.run(f"bash -c {shlex.quote(script)}")
    assert result.rc in (0, 1), result.stdout + result.stderr
    elapsed_ms = int(result.stdout.strip())
    assert result.rc == 0, f"{unit} was not healthy again after kill -9 in 30 s"
    assert elapsed_ms <= KILL_RECOVERY_MS, f"{unit} took {elapsed_ms} ms to be healthy again"


def test_env_file_is_private(host: Host, deployment: Deployment) -> None:
    # The file the units read, as systemd sees it ("path (ignore_errors=no)").
    path = host.check_output(
        f"systemctl show --property EnvironmentFiles --value {deployment.units[0]}"
    ).split()[0]
    assert path.startswith(LAYOUT["layout_config_dir"] + "/")
    with host.sudo():
        env_file = host.file(path)
        # systemd reads it for the units; the app's group reads it, only root rewrites it.
        assert env_file.mode == 0o640
        assert env_file.user == "root"
        assert env_file.group == LAYOUT["layout_app_group"]
        settings = dict(
            line.split("=", 1) for line in env_file.content_string.splitlines() if "=" in line
        )
    assert len(settings["DJANGO_SECRET_KEY"]) >= 50
    assert settings["REDIS_URL"].startswith("redis://:")


def test_redis_needs_the_password_and_listens_where_told(host: Host) -> None:
    port = LAYOUT["layout_redis_port"]
    bind = standalone_value(host.ansible.get_variables(), REDIS_DEFAULTS, "redis_bind_interface")
    assert host.service("redis-server").is_running
    assert host.socket(f"tcp://{bind}:{port}").is_listening
    if bind not in EVERY_ADDRESS:
        assert not host.socket(f"tcp://0.0.0.0:{port}").is_listening
    refused = host.run(f"redis-cli -h 127.0.0.1 -p {port} ping")
    assert "NOAUTH" in refused.stdout + refused.stderr


def test_server_runs_unprivileged_and_sandboxed(host: Host, deployment: Deployment) -> None:
    unit = deployment.units[0]
    properties = host.check_output(
        f"systemctl show --property User,NoNewPrivileges,ProtectSystem,PrivateTmp {unit}"
    )
    assert f"User={LAYOUT['layout_app_user']}" in properties
    assert "NoNewPrivileges=yes" in properties
    assert "ProtectSystem=strict" in properties
    assert "PrivateTmp=yes" in properties
    pid = _main_pid(host, unit)
    assert host.check_output(f"ps -o user= -p {pid}").strip() == LAYOUT["layout_app_user"]
