"""Caddy in front of the app servers: routes, static files, TLS and the split WSGI + ASGI layout.

On every host whose current layout has Caddy on (caddy_layout.py); test_layout.py checks what
runs on every host. Every request is made inside the host.
"""

from __future__ import annotations

from testinfra.host import Host

import json
import re
import shlex

import pytest
from caddy_layout import CADDY_HOSTS, Layout, layout_of

from conftest import LAYOUT, HttpResponse, host_address, http_get, role_file

testinfra_hosts = CADDY_HOSTS

CADDY_DEFAULTS = role_file("caddy", "defaults", "main.yml")
CADDY_VARS = role_file("caddy", "vars", "main.yml")
CADDYFILE = CADDY_VARS["caddy_config_file"]
CA_CERT = "/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt"
CADDY_DROPIN = CADDY_VARS["caddy_unit_dropin"].replace(
    "{{ caddy_service }}", CADDY_VARS["caddy_service"]
)
ADMIN_SOCKET = CADDY_DEFAULTS["caddy_admin_address"]
# Caddy's own default admin address is localhost:2019; the role's is a unix socket.
CADDY_TCP_ADMIN_PORT = 2019
# systemd-analyze security: the package's unit scores about 9 (exposed), the role's drop-in
# must bring it to 2.0 or less.
MAX_EXPOSURE = 2.0
STATIC_ROOT = f"{LAYOUT['layout_app_root']}/current/staticfiles"
STATIC_FILE = "css/site.css"
STATIC_CACHE_CONTROL = CADDY_DEFAULTS["caddy_static_cache_control"]
# Plain HTTP for benchmarks and HTTPS on the layout's ports, the app servers behind on theirs.
HTTP_BASE = f"http://127.0.0.1:{LAYOUT['layout_http_port']}"
HTTPS_BASE = f"https://127.0.0.1:{LAYOUT['layout_https_port']}"
MAIN_PORT = LAYOUT["layout_app_port"]
ASYNC_PORT = LAYOUT["layout_async_port"]
# Caddy's own default of idle connections per upstream; the role raises it above 200.
CADDY_DEFAULT_IDLE_CONNS = 32
CADDY_IDLE_CONNS = CADDY_DEFAULTS["caddy_upstream_idle_conns"]
ENDPOINTS = [
    "/",
    "/api/health",
    "/api/health/sync",
    "/api/health/async",
    "/api/demo/movies?limit=5",
]


@pytest.fixture
def layout(host: Host) -> Layout:
    return layout_of(host)


def fetch_https(host: Host, path: str, *curl_options: str) -> HttpResponse:
    """GET path over HTTPS, trusting only Caddy's internal CA."""
    return http_get(host, f"{HTTPS_BASE}{path}", "--cacert", CA_CERT, *curl_options)


def caddy_listeners(host: Host, port: int | None = None) -> list[tuple[str, int, int]]:
    """Caddy's listening TCP sockets (optionally on one port): (address, port, backlog)."""
    port_filter = f"'( sport = :{port} )'" if port else ""
    lines = host.check_output(f"ss -Hltnp {port_filter}").splitlines()
    listeners = []
    for line in lines:
        if '"caddy"' not in line:
            continue
        _state, _queued, backlog, local, *_ = line.split()
        address, _, listen_port = local.rpartition(":")
        listeners.append((address.strip("[]"), int(listen_port), int(backlog)))
    return listeners


def caddy_main_pid(host: Host) -> int:
    return int(host.check_output("systemctl show --property MainPID --value caddy"))


def test_caddy_listens_on_its_sites_ports_only(host: Host, layout: Layout) -> None:
    """No TCP port for the admin API: Caddy listens on the HTTPS and the plain-HTTP sites only."""
    service = host.service("caddy")
    assert service.is_running
    assert service.is_enabled
    ports = {port for _address, port, _backlog in caddy_listeners(host)}
    assert ports == {LAYOUT["layout_https_port"], LAYOUT["layout_http_port"]}
    # Caddy's old default admin port: nothing listens there, on any address.
    assert host.check_output(f"ss -Hltn '( sport = :{CADDY_TCP_ADMIN_PORT} )'") == ""


def test_admin_api_is_a_unix_socket_only_caddy_can_use(host: Host, layout: Layout) -> None:
    with host.sudo():
        socket = host.file(ADMIN_SOCKET)
        directory = host.file(ADMIN_SOCKET.rpartition("/")[0])
        assert socket.is_socket
        assert (socket.user, directory.user) == ("caddy", "caddy")
        # Not world-writable (connecting to a unix socket needs write permission), in a directory
        # others cannot even enter.
        assert socket.mode & 0o002 == 0, oct(socket.mode)
        assert directory.mode == 0o750, oct(directory.mode)
        listening = host.check_output(f"ss -Hlxp src {ADMIN_SOCKET}")
    assert '"caddy"' in listening
    # The admin API answers root there (Caddy 2.6 takes an empty Host on a unix socket) and
    # refuses any other user.
    admin_request = (
        f"curl --silent --fail --max-time 5 --header 'Host;' --unix-socket {ADMIN_SOCKET}"
        " http://localhost/config/admin"
    )
    with host.sudo():
        config = host.check_output(admin_request)
        as_nobody = host.run(f"runuser -u nobody -- {admin_request}")
    assert json.loads(config)["listen"] == f"unix/{ADMIN_SOCKET}"
    assert as_nobody.rc == 7, as_nobody  # curl: could not connect (permission denied)


def test_caddy_runs_in_its_sandbox(host: Host, layout: Layout) -> None:
    """The role's drop-in confines the package's unit: exposure at most 2.0 of 10 (about 9 bare)."""
    with host.sudo():
        dropin = host.file(CADDY_DROPIN)
        assert dropin.exists
        assert (dropin.user, dropin.mode) == ("root", 0o644)
        report = host.check_output("systemd-analyze security --no-pager caddy.service")
        status = host.file(f"/proc/{caddy_main_pid(host)}/status").content_string
        mounts = host.file(f"/proc/{caddy_main_pid(host)}/mountinfo").content_string
    exposure = re.search(r"Overall exposure level for caddy\.service: ([0-9.]+)", report)
    assert exposure, report
    assert float(exposure.group(1)) <= MAX_EXPOSURE, report
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    # Binding ports below 1024 is the one capability it keeps (CAP_NET_BIND_SERVICE, bit 10).
    assert int(fields["CapEff"], 16) == 1 << 10
    assert int(fields["CapBnd"], 16) == 1 << 10
    assert fields["NoNewPrivs"] == "1"
    assert fields["Seccomp"] == "2"
    # The app's secrets and data are hidden from it (an inaccessible node mounted over each).
    mount_points = {line.split()[4] for line in mounts.splitlines()}
    assert {LAYOUT["layout_config_dir"], f"{LAYOUT['layout_app_root']}/shared"} <= mount_points


def test_the_sandbox_leaves_the_listen_backlog_to_the_kernel(host: Host, layout: Layout) -> None:
    """Caddy sizes its backlog from /proc/sys/net/core/somaxconn: the sandbox must let it read it
    (ProcSubset=pid would hide it, and 200 benchmark connections would meet a backlog of 128)."""
    somaxconn = int(host.check_output("sysctl --values net.core.somaxconn"))
    backlogs = {backlog for _address, _port, backlog in caddy_listeners(host)}
    assert backlogs == {min(somaxconn, 65535)}


def test_plain_http_site_listens_on_loopback_only(host: Host, layout: Layout) -> None:
    """No load hosts in this inventory: the benchmark's site is for this host's own clients,
    while the HTTPS site answers on every address."""
    http = caddy_listeners(host, LAYOUT["layout_http_port"])
    assert http
    assert {address for address, _port, _backlog in http} <= {"127.0.0.1", "::1"}, http
    https = caddy_listeners(host, LAYOUT["layout_https_port"])
    assert {address for address, _port, _backlog in https} <= {"*", "0.0.0.0", "::"}, https
    address = host_address(host)
    refused = host.run(
        f"curl --silent --max-time 5 --output /dev/null "
        f"http://{address}:{LAYOUT['layout_http_port']}/api/health"
    )
    assert refused.rc == 7, refused  # curl: could not connect
    secure = http_get(
        host, f"https://{address}:{LAYOUT['layout_https_port']}/api/health", "--cacert", CA_CERT
    )
    assert secure.status == 200
    assert secure.json()["status"] == "healthy"


def test_reload_applies_a_changed_caddyfile_through_the_admin_socket(
    host: Host, layout: Layout
) -> None:
    """`systemctl reload caddy` (the role's handler) runs `caddy reload`, which sends the new
    Caddyfile over the unix socket: the change is served by the same process."""
    url = f"{HTTP_BASE}/static/{STATIC_FILE}"
    backup = "/var/tmp/dsl-caddyfile-before-reload-test"
    marker = "public, max-age=7"
    pid = caddy_main_pid(host)
    with host.sudo():
        host.check_output(f"cp -p {CADDYFILE} {backup}")
        try:
            host.check_output(
                f"sed -i 's/{STATIC_CACHE_CONTROL}/{marker}/' {CADDYFILE} && systemctl reload caddy"
            )
            changed = http_get(host, url).headers.get("cache-control")
        finally:
            host.check_output(f"mv {backup} {CADDYFILE} && systemctl reload caddy")
        restored = http_get(host, url).headers.get("cache-control")
    assert changed == marker
    assert restored == STATIC_CACHE_CONTROL
    assert caddy_main_pid(host) == pid
    assert host.file(ADMIN_SOCKET).is_socket


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_endpoint_answers_through_caddy(host: Host, layout: Layout, path: str) -> None:
    expected = layout.server_for(path)
    plain = http_get(host, f"{HTTP_BASE}{path}")
    assert plain.status == 200, plain.body
    assert plain.headers.get("x-app-server") == expected
    secure = fetch_https(host, path)
    assert secure.status == 200, secure.body
    assert secure.headers.get("x-app-server") == expected
    assert secure.http_version == "2"


def test_health_through_caddy_checks_database_and_redis(host: Host, layout: Layout) -> None:
    for path in ("/api/health/sync", "/api/health/async"):
        response = http_get(host, f"{HTTP_BASE}{path}")
        assert response.json()["checks"] == {"database": "ok", "redis": "ok"}, path


def test_https_certificate_comes_from_the_internal_ca(host: Host, layout: Layout) -> None:
    for name in ("127.0.0.1", "localhost"):
        response = http_get(host, f"https://{name}/api/health", "--cacert", CA_CERT)
        assert response.status == 200, name
        assert response.http_version == "2", name
    # Not a certificate the system already trusts: without the internal root, curl refuses it.
    untrusted = host.run(f"curl --silent --max-time 10 --output /dev/null {HTTPS_BASE}/api/health")
    assert untrusted.rc == 60, untrusted.stderr
    issuer = host.check_output(
        f"curl --silent --verbose --max-time 10 --cacert {CA_CERT} --output /dev/null "
        f"{HTTPS_BASE}/api/health 2>&1 | grep -i 'issuer:'"
    )
    assert "Caddy Local Authority" in issuer


@pytest.mark.parametrize("base", [HTTP_BASE, HTTPS_BASE])
def test_static_files_are_served_by_caddy_with_cache_headers(
    host: Host, layout: Layout, base: str
) -> None:
    response = http_get(host, f"{base}/static/{STATIC_FILE}", "--cacert", CA_CERT)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.headers["cache-control"] == STATIC_CACHE_CONTROL
    assert response.headers.get("server") == "Caddy"
    assert "etag" in response.headers
    # The app adds X-App-Server to everything it answers, its static files included.
    assert "x-app-server" not in response.headers
    same = host.run(
        f"curl --silent --cacert {CA_CERT} {base}/static/{STATIC_FILE}"
        f" | cmp - {STATIC_ROOT}/{STATIC_FILE}"
    )
    assert same.rc == 0, same.stdout + same.stderr


def test_missing_static_file_is_not_cached(host: Host, layout: Layout) -> None:
    response = http_get(host, f"{HTTP_BASE}/static/css/no-such-file.css")
    assert response.status == 404
    assert "cache-control" not in response.headers


@pytest.mark.parametrize(("encoding", "decompress"), [("zstd", "zstd -dc"), ("gzip", "gzip -dc")])
def test_static_files_are_sent_precompressed(
    host: Host, layout: Layout, encoding: str, decompress: str
) -> None:
    url = f"{HTTP_BASE}/static/{STATIC_FILE}"
    response = http_get(
        host, url, "--header", f"Accept-Encoding: {encoding}", "--output", "/dev/null"
    )
    assert response.headers.get("content-encoding") == encoding
    assert "accept-encoding" in response.headers.get("vary", "").lower()
    assert host.file(f"{STATIC_ROOT}/{STATIC_FILE}.{'zst' if encoding == 'zstd' else 'gz'}").exists
    same = host.run(
        f"curl --silent --header 'Accept-Encoding: {encoding}' {url} | {decompress}"
        f" | cmp - {STATIC_ROOT}/{STATIC_FILE}"
    )
    assert same.rc == 0, same.stdout + same.stderr


@pytest.mark.parametrize(
    "url", [f"{base.replace('http', 'ws', 1)}/ws/echo" for base in (HTTP_BASE, HTTPS_BASE)]
)
def test_websocket_through_caddy(host: Host, layout: Layout, probes: str, url: str) -> None:
    result = json.loads(
        host.check_output(f"timeout 15 python3 {probes}/ws_echo.py {url} hello-caddy --insecure")
    )
    if not layout.async_server:
        # One WSGI server: the upgrade reaches it and is refused, not left hanging.
        assert result["status"] != 101, result
        return
    assert result["status"] == 101, result
    assert result["echo"] == "hello-caddy"
    # Uvicorn sends the app's accept headers: the ASGI server, not the WSGI one, answered.
    assert result["headers"].get("x-app-server") == layout.async_server


def test_caddyfile_routes_only_to_running_servers(host: Host, layout: Layout) -> None:
    with host.sudo():
        caddyfile = host.file(CADDYFILE)
        assert caddyfile.user == "root"
        assert caddyfile.mode == 0o644
        text = caddyfile.content_string
    assert text.startswith("# Django Server Lab: written by the caddy role")
    assert f"reverse_proxy 127.0.0.1:{MAIN_PORT}" in text
    assert (f"reverse_proxy 127.0.0.1:{ASYNC_PORT}" in text) == bool(layout.async_server)


def test_every_client_connection_is_served_through_caddy(
    host: Host, layout: Layout, probes: str
) -> None:
    """200 client connections all answered, over upstream connections Caddy reuses.

    How many upstream connections Caddy holds depends on how many requests the probe gets in
    flight at once, so the pool's size is checked in the Caddyfile; what runs here proves
    the reuse: Caddy closes few upstream connections while answering thousands of requests.
    Through Caddy the slowest first answer took up to about 4 s on a busy 2-core machine, so
    the window is 10 s; a starving server leaves connections unanswered however long it runs.
    """
    probe_output = "/var/tmp/dsl-caddy-probe.json"
    time_wait = (
        f"ss -Htn state time-wait '( dport = :{MAIN_PORT} or sport = :{MAIN_PORT} )' | wc -l"
    )
    script = f"""
        set -eu
        before=$({time_wait})
        python3 {probes}/fairness_probe.py --url {HTTP_BASE}/api/health \\
            --connections 200 --duration 10 --output {probe_output}
        echo $(( $({time_wait}) - before ))
    """
    closed = int(host.check_output(f"bash -c {shlex.quote(script)}"))
    result = json.loads(host.file(probe_output).content_string)
    assert result["connections"] == 200
    assert result["answered_connections"] == 200, result
    assert result["non_2xx"] == 0, result
    assert closed < result["answers"]["total"] / 10, (closed, result["answers"])
    with host.sudo():
        caddyfile = host.file(CADDYFILE).content_string
    # More idle upstream connections than Caddy's default 32, for 200 client connections.
    assert f"keepalive_idle_conns_per_host {CADDY_IDLE_CONNS}" in caddyfile
    assert CADDY_IDLE_CONNS > CADDY_DEFAULT_IDLE_CONNS


# Last: it stops the app servers for a moment.
def test_static_files_are_served_while_the_app_servers_are_down(host: Host, layout: Layout) -> None:
    """The proof that Caddy, not an app server, serves /static/: stop them all and ask."""
    units = host.check_output(
        "systemctl list-units --plain --no-legend --state=active 'django-*' | awk '{print $1}'"
    ).split()
    assert units
    with host.sudo():
        host.check_output(f"systemctl stop {' '.join(units)}")
        try:
            static = http_get(host, f"{HTTP_BASE}/static/{STATIC_FILE}")
            dynamic = http_get(host, f"{HTTP_BASE}/api/health", timeout=20)
        finally:
            host.check_output(f"systemctl start {' '.join(units)}")
    assert static.status == 200
    assert dynamic.status == 502
    # Back up for whatever runs next: curl retries until both routes answer 200 (at most 60 s).
    for path in ("/api/health", "/api/health/async"):
        host.check_output(
            "curl --silent --fail --retry 60 --retry-delay 1 --retry-all-errors --max-time 90"
            f" --output /dev/null {HTTP_BASE}{path}"
        )
