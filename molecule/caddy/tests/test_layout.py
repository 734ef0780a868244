"""What runs on every host of the caddy scenario: exactly the servers of its layout, and Caddy
only when the layout has it.

Verified after converge and again after side_effect switched the split host back to one server
and turned Caddy off on the other (caddy_layout.py reads which layout each host runs now).
"""

from __future__ import annotations

from testinfra.host import Host

import pytest
from caddy_layout import ALL_HOSTS, Layout, layout_of

from conftest import CATALOG, LAYOUT, http_get, role_file

testinfra_hosts = ALL_HOSTS

CADDY_VARS = role_file("caddy", "vars", "main.yml")
CADDYFILE = CADDY_VARS["caddy_config_file"]
CADDY_DROPIN = CADDY_VARS["caddy_unit_dropin"].replace(
    "{{ caddy_service }}", CADDY_VARS["caddy_service"]
)
ADMIN_SOCKET = role_file("caddy", "defaults", "main.yml")["caddy_admin_address"]
ADMIN_SOCKET_DIR = ADMIN_SOCKET.rpartition("/")[0]
MAIN_PORT = LAYOUT["layout_app_port"]
ASYNC_PORT = LAYOUT["layout_async_port"]
STATIC_FILE = "css/site.css"


@pytest.fixture
def layout(host: Host) -> Layout:
    return layout_of(host)


def test_only_the_layouts_servers_run(host: Host, layout: Layout) -> None:
    listed = host.check_output(
        "systemctl list-units --all --plain --no-legend 'django-*' | awk '{print $1}'"
    ).split()
    running = {unit.removeprefix("django-").split("@")[0].split(".")[0] for unit in listed}
    wanted = {layout.server} | ({layout.async_server} if layout.async_server else set())
    assert running == wanted
    for unit in listed:
        assert host.service(unit).is_running, unit
    assert host.socket(f"tcp://127.0.0.1:{MAIN_PORT}").is_listening
    assert host.socket(f"tcp://127.0.0.1:{ASYNC_PORT}").is_listening == bool(layout.async_server)


def test_no_other_server_is_left_behind(host: Host, layout: Layout) -> None:
    """After a switch back to one server, the second one's unit and processes are gone."""
    wanted = {layout.server, layout.async_server}
    for server in CATALOG:
        if server in wanted:
            continue
        assert not host.file(f"/etc/systemd/system/django-{server}@.service").exists, server
        assert host.run(f"pgrep -u django -f 'bin/{server} '").rc == 1, server


def test_caddy_runs_exactly_when_the_layout_has_it(host: Host, layout: Layout) -> None:
    service = host.service("caddy")
    assert service.is_running == layout.caddy
    assert service.is_enabled == layout.caddy
    assert host.socket(f"tcp://{LAYOUT['layout_https_port']}").is_listening == layout.caddy
    # The plain-HTTP site on loopback: this inventory has no load hosts.
    http_site = f"tcp://127.0.0.1:{LAYOUT['layout_http_port']}"
    assert host.socket(http_site).is_listening == layout.caddy
    with host.sudo():
        caddyfile = host.file(CADDYFILE)
        assert caddyfile.exists == layout.caddy
        # Its sandbox goes with it (directory included), and so does the admin socket's
        # directory, which systemd removes when Caddy stops.
        assert host.file(CADDY_DROPIN).exists == layout.caddy
        assert host.file(CADDY_DROPIN.rpartition("/")[0]).exists == layout.caddy
        assert host.file(ADMIN_SOCKET_DIR).exists == layout.caddy
        if layout.caddy:
            # Routes only to the servers that run: after a switch back, none to the old port.
            text = caddyfile.content_string
            assert (f":{ASYNC_PORT}" in text) == bool(layout.async_server)


def test_the_app_server_answers_on_its_own_port(host: Host, layout: Layout) -> None:
    """With or without Caddy, the server answers directly, static files included."""
    health = http_get(host, f"http://127.0.0.1:{MAIN_PORT}/api/health")
    assert health.status == 200
    assert health.headers.get("x-app-server") == layout.server
    assert http_get(host, f"http://127.0.0.1:{MAIN_PORT}/static/{STATIC_FILE}").status == 200
