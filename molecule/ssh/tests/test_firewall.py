"""The firewall, knocked on from outside: the app server, Redis and Caddy listen on every address
of dsl-ssh (molecule.yml), so what answers from the controller and from the load generator is
what the firewall lets in. The host itself shows our table and the reserved ports."""

from __future__ import annotations

from testinfra.host import Host

import os
import shlex
import socket
import ssl

import pytest
import testinfra
import testinfra.utils.ansible_runner

from conftest import LAYOUT, role_file

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
testinfra_hosts = RUNNER.get_hosts("lab")

TARGET = "dsl-ssh"
# The address the controller and the load generator reach the target by (molecule.yml).
TARGET_ADDRESS = RUNNER.get_variables(TARGET)["ansible_host"]
LOAD_GENERATOR = RUNNER.get_hosts("loadgen")[0]
TABLE = role_file("firewall", "vars", "main.yml")["firewall_table"]
SSH_PORT = role_file("firewall", "defaults", "main.yml")["firewall_ssh_ports"][0]
APP_PORT = int(LAYOUT["layout_app_port"])
REDIS_PORT = int(LAYOUT["layout_redis_port"])
HTTPS_PORT = int(LAYOUT["layout_https_port"])
HTTP_PORT = int(LAYOUT["layout_http_port"])
# A dropped SYN gets no answer: a connection still pending after this long is not let in.
CONNECT_TIMEOUT = 3.0


def _connect_from_controller(port: int) -> socket.socket | None:
    """A TCP connection from this machine to the target's port, or None when none is made."""
    try:
        return socket.create_connection((TARGET_ADDRESS, port), timeout=CONNECT_TIMEOUT)
    except OSError:
        return None


@pytest.fixture(scope="module")
def load_generator() -> Host:
    return testinfra.get_host(f"ansible://{LOAD_GENERATOR}?ansible_inventory={INVENTORY}")


def _http_status_from(load_generator: Host, port: int) -> str:
    """The HTTP status of GET /api/health on the target's port, asked from the load generator
    (python3 from the image: the host is not deployed to), or the error that came instead."""
    url = f"http://{TARGET_ADDRESS}:{port}/api/health"
    script = (
        "import sys, urllib.request\n"
        "try:\n"
        f"    print(urllib.request.urlopen({url!r}, timeout={CONNECT_TIMEOUT}).status)\n"
        "except Exception as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    return load_generator.check_output(f"python3 -c {shlex.quote(script)}").strip()


def _connects_from(load_generator: Host, port: int) -> bool:
    script = (
        "import socket, sys\n"
        "try:\n"
        f"    socket.create_connection(({TARGET_ADDRESS!r}, {port}), timeout={CONNECT_TIMEOUT})\n"
        "except OSError:\n"
        "    sys.exit(1)\n"
    )
    return load_generator.run(f"python3 -c {shlex.quote(script)}").rc == 0


def test_ssh_answers_from_the_controller() -> None:
    connection = _connect_from_controller(SSH_PORT)
    assert connection is not None
    with connection:
        assert connection.recv(64).startswith(b"SSH-2.0-")


def test_caddy_answers_https_from_the_controller() -> None:
    connection = _connect_from_controller(HTTPS_PORT)
    assert connection is not None
    # Caddy's internal CA: the handshake is what is tested, not the trust.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with context.wrap_socket(connection, server_hostname=TARGET_ADDRESS) as tls:
        tls.sendall(f"GET /api/health HTTP/1.1\r\nHost: {TARGET_ADDRESS}\r\n\r\n".encode())
        assert tls.recv(64).startswith(b"HTTP/1.1 200"), "Caddy's HTTPS site did not answer 200"


def test_the_app_port_is_closed_to_the_controller() -> None:
    assert _connect_from_controller(APP_PORT) is None


def test_the_app_port_answers_the_load_generator(load_generator: Host) -> None:
    assert _http_status_from(load_generator, APP_PORT) == "200"


def test_caddys_plain_http_site_answers_the_load_generator(load_generator: Host) -> None:
    assert _http_status_from(load_generator, HTTP_PORT) == "200"


def test_redis_is_closed_to_the_controller() -> None:
    assert _connect_from_controller(REDIS_PORT) is None


def test_redis_is_closed_to_the_load_generator(load_generator: Host) -> None:
    assert not _connects_from(load_generator, REDIS_PORT)


def test_redis_listens_beyond_loopback_and_wants_its_password(host: Host) -> None:
    """Else the closed port above would prove nothing about the firewall."""
    assert host.socket(f"tcp://0.0.0.0:{REDIS_PORT}").is_listening
    refused = host.run(f"redis-cli -h 127.0.0.1 -p {REDIS_PORT} ping")
    assert "NOAUTH" in refused.stdout + refused.stderr


def test_our_table_drops_what_it_does_not_accept(host: Host) -> None:
    with host.sudo():
        table = host.check_output(f"nft list table inet {TABLE}")
    assert "type filter hook input priority filter; policy drop;" in table
    assert f"tcp dport {REDIS_PORT}" not in table


def test_debians_nftables_conf_loads_our_rules(host: Host) -> None:
    """nftables.service loads the file at boot (not enabled in this container: Docker's own DNS
    rules would be flushed), so the whole file must pass nft's check."""
    included = [
        line
        for line in host.file("/etc/nftables.conf").content_string.splitlines()
        if line.startswith("include ") and line.endswith('/django-server-lab.nft"')
    ]
    assert len(included) == 1
    with host.sudo():
        assert host.run("nft -c -f /etc/nftables.conf").rc == 0


def test_the_service_ports_are_reserved(host: Host) -> None:
    ports = sorted({APP_PORT, int(LAYOUT["layout_async_port"]), REDIS_PORT, HTTP_PORT, HTTPS_PORT})
    reserved = host.file("/proc/sys/net/ipv4/ip_local_reserved_ports").content_string.strip()
    listed: set[int] = set()
    for part in reserved.split(","):
        first, _, last = part.partition("-")
        listed.update(range(int(first), int(last or first) + 1))
    assert set(ports) <= listed, reserved
