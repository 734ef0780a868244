"""Caddy in front of the app servers: routes, static files, TLS and the split WSGI + ASGI layout.

On every host whose current layout has Caddy on (caddy_layout.py); test_layout.py checks what
runs on every host. Every request is made inside the host.
"""

from __future__ import annotations

from testinfra.host import Host

import json
import shlex

import pytest
from caddy_layout import CADDY_HOSTS, Layout, layout_of

from conftest import LAYOUT, HttpResponse, http_get, role_file

testinfra_hosts = CADDY_HOSTS

CADDY_DEFAULTS = role_file("caddy", "defaults", "main.yml")
CADDY_VARS = role_file("caddy", "vars", "main.yml")
CADDYFILE = CADDY_VARS["caddy_config_file"]
CA_CERT = "/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt"
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


def test_caddy_runs_with_the_admin_api_on_loopback(host: Host, layout: Layout) -> None:
    service = host.service("caddy")
    assert service.is_running
    assert service.is_enabled
    assert host.socket(f"tcp://{LAYOUT['layout_https_port']}").is_listening
    assert host.socket(f"tcp://{LAYOUT['layout_http_port']}").is_listening
    admin_port = CADDY_DEFAULTS["caddy_admin_address"].rpartition(":")[2]
    assert host.socket(f"tcp://127.0.0.1:{admin_port}").is_listening
    assert not host.socket(f"tcp://0.0.0.0:{admin_port}").is_listening
    assert not host.socket(f"tcp://:::{admin_port}").is_listening


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
