"""Caddy in front of the app servers: routes, static files, TLS and the split WSGI + ASGI layout.

Run twice by the scenario: after converge (the inventory's layout) and after side_effect (each
host's switch_* layout, marked by SWITCHED_MARK). Every request is made inside the host.
"""

from __future__ import annotations

from testinfra.host import Host

import json
import os
import shlex
from dataclasses import dataclass

import pytest
import testinfra.utils.ansible_runner

from conftest import HttpResponse, http_get

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("all")

SWITCHED_MARK = "/var/tmp/dsl-caddy-switched"
CADDYFILE = "/etc/caddy/Caddyfile"
CA_CERT = "/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt"
STATIC_ROOT = "/srv/django-server-lab/current/staticfiles"
STATIC_FILE = "css/site.css"
STATIC_CACHE_CONTROL = "public, max-age=86400"
# The role's defaults: plain HTTP for benchmarks on 8080, HTTPS on 443, the app on 8000 and 8001.
HTTP_BASE = "http://127.0.0.1:8080"
HTTPS_BASE = "https://127.0.0.1"
MAIN_PORT = 8000
ASYNC_PORT = 8001
# Caddy's own default of idle connections per upstream; the role raises it above 200.
CADDY_DEFAULT_IDLE_CONNS = 32
ENDPOINTS = [
    "/",
    "/api/health",
    "/api/health/sync",
    "/api/health/async",
    "/api/demo/movies?limit=5",
]
ASYNC_ENDPOINTS = {"/api/health/async"}


@dataclass(frozen=True)
class Layout:
    """What should run on the host now."""

    server: str
    async_server: str
    caddy: bool
    switched: bool

    def server_for(self, path: str) -> str:
        """The server that must answer path through Caddy."""
        if self.async_server and (path.startswith("/ws/") or path in ASYNC_ENDPOINTS):
            return self.async_server
        return self.server


@pytest.fixture(scope="module")
def layout(host: Host) -> Layout:
    variables = host.ansible.get_variables()
    switched = host.file(SWITCHED_MARK).exists
    prefix = "switch_" if switched else ""
    return Layout(
        server=str(variables["server"]),
        async_server=str(variables.get(f"{prefix}async_server", "")),
        caddy=bool(variables.get(f"{prefix}caddy", False)),
        switched=switched,
    )


@pytest.fixture
def with_caddy(layout: Layout) -> Layout:
    if not layout.caddy:
        pytest.skip("Caddy is off in this layout")
    return layout


def fetch(host: Host, url: str, *curl_options: str) -> tuple[HttpResponse, str]:
    """GET url with curl and extra options; return the response and the HTTP version."""
    command = (
        "curl --silent --show-error --max-time 10 --dump-header - "
        f"--write-out '\\n%{{http_code}} %{{http_version}}' "
        f"{' '.join(shlex.quote(option) for option in curl_options)} {shlex.quote(url)}"
    )
    output = host.check_output(command)
    head, _, rest = output.partition("\r\n\r\n")
    body, _, trailer = rest.rpartition("\n")
    status, version = trailer.split()
    headers: dict[str, str] = {}
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return HttpResponse(status=int(status), headers=headers, body=body), version


def fetch_https(host: Host, path: str, *curl_options: str) -> tuple[HttpResponse, str]:
    """GET path over HTTPS, trusting only Caddy's internal CA."""
    return fetch(host, f"{HTTPS_BASE}{path}", "--cacert", CA_CERT, *curl_options)


def test_caddy_runs_with_the_admin_api_on_loopback(host: Host, with_caddy: Layout) -> None:
    service = host.service("caddy")
    assert service.is_running
    assert service.is_enabled
    assert host.socket("tcp://443").is_listening
    assert host.socket("tcp://8080").is_listening
    assert host.socket("tcp://127.0.0.1:2019").is_listening
    assert not host.socket("tcp://0.0.0.0:2019").is_listening
    assert not host.socket("tcp://:::2019").is_listening


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_endpoint_answers_through_caddy(host: Host, with_caddy: Layout, path: str) -> None:
    expected = with_caddy.server_for(path)
    plain = http_get(host, f"{HTTP_BASE}{path}")
    assert plain.status == 200, plain.body
    assert plain.headers.get("x-app-server") == expected
    secure, version = fetch_https(host, path)
    assert secure.status == 200, secure.body
    assert secure.headers.get("x-app-server") == expected
    assert version == "2"


def test_health_through_caddy_checks_database_and_redis(host: Host, with_caddy: Layout) -> None:
    for path in ("/api/health/sync", "/api/health/async"):
        response = http_get(host, f"{HTTP_BASE}{path}")
        assert response.json()["checks"] == {"database": "ok", "redis": "ok"}, path


def test_https_certificate_comes_from_the_internal_ca(host: Host, with_caddy: Layout) -> None:
    for name in ("127.0.0.1", "localhost"):
        response, version = fetch(host, f"https://{name}/api/health", "--cacert", CA_CERT)
        assert response.status == 200, name
        assert version == "2", name
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
    host: Host, with_caddy: Layout, base: str
) -> None:
    response, _ = fetch(host, f"{base}/static/{STATIC_FILE}", "--cacert", CA_CERT)
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


def test_missing_static_file_is_not_cached(host: Host, with_caddy: Layout) -> None:
    response = http_get(host, f"{HTTP_BASE}/static/css/no-such-file.css")
    assert response.status == 404
    assert "cache-control" not in response.headers


@pytest.mark.parametrize(("encoding", "decompress"), [("zstd", "zstd -dc"), ("gzip", "gzip -dc")])
def test_static_files_are_sent_precompressed(
    host: Host, with_caddy: Layout, encoding: str, decompress: str
) -> None:
    url = f"{HTTP_BASE}/static/{STATIC_FILE}"
    response, _ = fetch(
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


@pytest.mark.parametrize("url", ["ws://127.0.0.1:8080/ws/echo", "wss://127.0.0.1/ws/echo"])
def test_websocket_through_caddy(host: Host, with_caddy: Layout, probes: str, url: str) -> None:
    result = json.loads(
        host.check_output(f"timeout 15 python3 {probes}/ws_echo.py {url} hello-caddy --insecure")
    )
    if not with_caddy.async_server:
        # One WSGI server: the upgrade reaches it and is refused, not left hanging.
        assert result["status"] != 101, result
        return
    assert result["status"] == 101, result
    assert result["echo"] == "hello-caddy"
    # Uvicorn sends the app's accept headers: the ASGI server, not the WSGI one, answered.
    assert result["headers"].get("x-app-server") == with_caddy.async_server


def test_split_layout_runs_both_servers(host: Host, layout: Layout) -> None:
    listed = host.check_output(
        "systemctl list-units --all --plain --no-legend 'django-*' | awk '{print $1}'"
    ).split()
    servers = {unit.removeprefix("django-").split("@")[0].split(".")[0] for unit in listed}
    assert servers == {layout.server} | ({layout.async_server} if layout.async_server else set())
    for unit in listed:
        assert host.service(unit).is_running, unit
    assert host.socket(f"tcp://127.0.0.1:{MAIN_PORT}").is_listening
    assert host.socket(f"tcp://127.0.0.1:{ASYNC_PORT}").is_listening == bool(layout.async_server)


def test_switching_back_removes_the_second_server(host: Host, layout: Layout) -> None:
    if not layout.switched or layout.async_server:
        pytest.skip("only after side_effect switched the host to one server")
    variables = host.ansible.get_variables()
    old = variables.get("async_server")
    if not old:
        pytest.skip("this host never ran a second server")
    assert not host.file(f"/etc/systemd/system/django-{old}@.service").exists
    assert host.run(f"pgrep -u django -f 'bin/{old} '").rc == 1
    with host.sudo():
        assert f":{ASYNC_PORT}" not in host.file(CADDYFILE).content_string


def test_caddyfile_routes_only_to_running_servers(host: Host, with_caddy: Layout) -> None:
    with host.sudo():
        caddyfile = host.file(CADDYFILE)
        assert caddyfile.user == "root"
        assert caddyfile.mode == 0o644
        text = caddyfile.content_string
    assert text.startswith("# Django Server Lab: written by the caddy role")
    assert f"reverse_proxy 127.0.0.1:{MAIN_PORT}" in text
    assert (f"reverse_proxy 127.0.0.1:{ASYNC_PORT}" in text) == bool(with_caddy.async_server)


def test_every_client_connection_is_served_through_caddy(
    host: Host, with_caddy: Layout, probes: str
) -> None:
    closed_before = _upstream_time_wait(host)
    result = json.loads(
        host.check_output(
            f"python3 {probes}/fairness_probe.py --url {HTTP_BASE}/api/health"
            " --connections 200 --duration 4"
        )
    )
    idle_upstream = _upstream_established(host)
    closed = _upstream_time_wait(host) - closed_before
    assert result["connections"] == 200
    assert result["answered_connections"] == 200, result
    assert result["non_2xx"] == 0, result
    # Keep-alive to the app server: Caddy keeps more idle connections than its default 32 and
    # closes few while answering thousands of requests.
    assert idle_upstream > CADDY_DEFAULT_IDLE_CONNS, idle_upstream
    assert closed < result["answers"]["total"] / 10, (closed, result["answers"])


def _upstream_established(host: Host) -> int:
    output = host.check_output(f"ss -Htn state established '( dport = :{MAIN_PORT} )'")
    return len(output.splitlines())


def _upstream_time_wait(host: Host) -> int:
    output = host.check_output(
        f"ss -Htn state time-wait '( dport = :{MAIN_PORT} or sport = :{MAIN_PORT} )'"
    )
    return len(output.splitlines())


def test_caddy_off_leaves_nothing_answering(host: Host, layout: Layout) -> None:
    if layout.caddy:
        pytest.skip("Caddy is on in this layout")
    if not layout.switched:
        pytest.skip("this host never ran Caddy")
    service = host.service("caddy")
    assert not service.is_running
    assert not service.is_enabled
    assert not host.file(CADDYFILE).exists
    assert not host.socket("tcp://443").is_listening
    assert not host.socket("tcp://8080").is_listening
    # The app server still answers on its own port, static files included.
    assert http_get(host, f"http://127.0.0.1:{MAIN_PORT}/api/health").status == 200
    assert http_get(host, f"http://127.0.0.1:{MAIN_PORT}/static/{STATIC_FILE}").status == 200


# Last: it stops the app servers for a moment.
def test_static_files_are_served_while_the_app_servers_are_down(
    host: Host, with_caddy: Layout
) -> None:
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
