"""Helpers for the testinfra checks of the deployed hosts (shared by every scenario).

Every request is a real HTTP request made inside the host (the servers listen on loopback) by
curl or by the small stdlib clients in probes/, which are copied to the host first.
"""

from __future__ import annotations

from testinfra.host import Host

import base64
import importlib.util
import io
import json
import re
import shlex
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

PROBES_DIR = Path(__file__).parent / "tests" / "probes"
ROLES_DIR = Path(__file__).parents[1] / "roles"
# The benchmark's fairness probe is the one source of "did every connection get answers".
FAIRNESS_PROBE = ROLES_DIR / "benchmark" / "files" / "fairness_probe.py"
# The project's load probe (benchreport), one stdlib file the hosts' python3 runs.
LOAD_PROBE = ROLES_DIR.parent / "benchreport" / "src" / "benchreport" / "probe.py"
REMOTE_PROBES_DIR = "/var/tmp/dsl-probes"


def role_file(role: str, *parts: str) -> Any:
    """A role's YAML file, e.g. role_file("layout", "defaults", "main.yml")."""
    return yaml.safe_load(ROLES_DIR.joinpath(role, *parts).read_text(encoding="utf-8"))


# What the tests expect comes from where the roles define it: the catalog (the servers), the
# layout (paths, user, ports) and a role's defaults.
CATALOG: dict[str, dict[str, Any]] = role_file("app_server", "vars", "main.yml")[
    "app_server_catalog"
]
LAYOUT: dict[str, Any] = role_file("layout", "defaults", "main.yml")
APP_SERVER_DEFAULTS: dict[str, Any] = role_file("app_server", "defaults", "main.yml")
DEFAULT_SERVER: str = APP_SERVER_DEFAULTS["app_server_name"]
# The groups that make hosts parts of one deployment (the topology role's): without them every
# host is a deployment of its own.
TOPOLOGY_GROUPS = ("app", "db", "cache", "proxy")


def standalone_value(variables: dict[str, Any], defaults: dict[str, Any], name: str) -> Any:
    """A role variable as a standalone host gets it: the inventory's value, else the role's default.
    A default that is a template reads the topology role's facts; it is rendered with what that
    role publishes for a host that is a deployment of its own (the app, Redis and Caddy on it, no
    proxy hosts elsewhere), as every host of the scenarios that use this is."""
    if name in variables:
        return variables[name]
    value = defaults[name]
    if not (isinstance(value, str) and "{{" in value):
        return value
    hostname = variables["inventory_hostname"]
    parts = [group for group in TOPOLOGY_GROUPS if variables["groups"].get(group)]
    assert not parts, f"{hostname}: the inventory has {parts} groups, not standalone hosts"
    context = {
        **variables,
        "topology_app_hosts": [hostname],
        "topology_cache_host": hostname,
        "topology_proxy_hosts": [],
    }
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return environment.from_string(value).render(context).strip()


@dataclass(frozen=True)
class HttpResponse:
    """One HTTP response as curl saw it."""

    status: int
    headers: dict[str, str]
    body: str
    http_version: str = ""

    def json(self) -> Any:
        return json.loads(self.body)


def http_get(host: Host, url: str, *curl_options: str, timeout: float = 10.0) -> HttpResponse:
    """GET url from inside the host with curl (plus curl_options); headers are lower-cased."""
    command = (
        f"curl --silent --show-error --max-time {timeout} --dump-header - "
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
    return HttpResponse(status=int(status), headers=headers, body=body, http_version=version)


def host_address(host: Host) -> str:
    """The host's IPv4 address on its default route: the one other hosts reach it by."""
    route = host.check_output("ip -4 -oneline route get 192.0.2.1").split()
    return route[route.index("src") + 1]


# The loopback address a client on the host uses for a server bound to every address.
LOOPBACK_OF = {"0.0.0.0": "127.0.0.1", "::": "::1"}


@dataclass(frozen=True)
class Deployment:
    """What the inventory says runs on a host."""

    server: str
    address: str
    port: int
    units: list[str]

    @property
    def base_url(self) -> str:
        """Where a client on the host asks it: loopback when it listens on every address."""
        host = LOOPBACK_OF.get(self.address, self.address)
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return "ws" + self.base_url.removeprefix("http")


def deployment_of(host: Host) -> Deployment:
    """Read the host's server choice and the units the role made for it."""
    variables = host.ansible.get_variables()
    server = variables.get("server", DEFAULT_SERVER)
    listed = host.check_output(
        f"systemctl list-units --all --plain --no-legend 'django-{server}@*.service'"
        " | awk '{print $1}'"
    )
    units = sorted(line for line in listed.splitlines() if line)
    return Deployment(
        server=server,
        address=standalone_value(variables, APP_SERVER_DEFAULTS, "app_server_bind_address"),
        port=int(variables.get("layout_app_port", LAYOUT["layout_app_port"])),
        units=units,
    )


@pytest.fixture(scope="module")
def deployment(host: Host) -> Deployment:
    return deployment_of(host)


@pytest.fixture(scope="module")
def probes(host: Host) -> str:
    """Copy the stdlib probe clients to the host; return their directory there."""
    return copy_probes(host)


def copy_probes(host: Host) -> str:
    """Copy the stdlib probe clients to the host; return their directory there.

    One command carries them all (a gzipped tar, base64 on its command line): one round trip
    instead of an Ansible run per file."""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for probe in [*sorted(PROBES_DIR.glob("*.py")), FAIRNESS_PROBE, LOAD_PROBE]:
            data = probe.read_bytes()
            member = tarfile.TarInfo(probe.name)
            member.size, member.mode, member.mtime = len(data), 0o755, int(probe.stat().st_mtime)
            tar.addfile(member, io.BytesIO(data))
    payload = base64.b64encode(archive.getvalue()).decode("ascii")
    with host.sudo():
        host.run_expect(
            [0],
            f"install -d -m 0755 {REMOTE_PROBES_DIR} && echo {payload} | base64 -d"
            f" | tar -xzf - --no-same-owner -C {REMOTE_PROBES_DIR}",
        )
    return REMOTE_PROBES_DIR


def _app_server_filters() -> Any:
    """The app_server role's filter plugin (a plain Python file): the role's own formulas."""
    path = ROLES_DIR / "app_server" / "filter_plugins" / "app_server.py"
    spec = importlib.util.spec_from_file_location("app_server_filters", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


APP_SERVER_FILTERS = _app_server_filters()
# The knobs a host's inventory may set (0 or empty: the catalog's tuned value).
SIZING_VARIABLES = ("workers", "threads", "instances")
# The budget of the units' limits: the keys of the role's app_server_limit_budget, each set by
# the role variable app_server_<key>.
LIMIT_BUDGET_KEYS = tuple(role_file("app_server", "vars", "main.yml")["app_server_limit_budget"])
EXPOSURE_LINE = re.compile(r"Overall exposure level for \S+: ([0-9.]+)")


def app_units(host: Host) -> dict[str, list[str]]:
    """The django-<server>@<revision>-<n>.service units loaded on the host, by server, the order
    in which they were deployed unknown (sorted by name)."""
    listed = host.check_output(
        "systemctl list-units --all --plain --no-legend 'django-*@*.service' | awk '{print $1}'"
    )
    units: dict[str, list[str]] = {}
    for unit in sorted(listed.split()):
        server = unit.removeprefix("django-").partition("@")[0]
        units.setdefault(server, []).append(unit)
    return units


def exposure_of(host: Host, unit: str) -> float:
    """The overall exposure `systemd-analyze security` gives the unit (0 safest, 10 worst)."""
    output = host.check_output(f"systemd-analyze security --no-pager {shlex.quote(unit)}")
    match = EXPOSURE_LINE.search(output)
    assert match, f"no overall exposure line for {unit}: {output[-500:]}"
    return float(match.group(1))


def expected_unit_limits(host: Host, servers: list[str]) -> dict[str, dict[str, Any]]:
    """Each server's unit limits as the role computes them on this host: its deployments planned
    from the catalog for the host's vCPUs and the inventory's sizing, then the role's formula
    over the host's memory with the role's defaults (or the inventory's values) as budget."""
    facts = host.ansible("setup", "gather_subset=!all,hardware", check=False)["ansible_facts"]
    variables = {**APP_SERVER_DEFAULTS, **host.ansible.get_variables()}
    overrides = {
        name: variables[f"app_server_{name}"]
        for name in SIZING_VARIABLES
        if variables.get(f"app_server_{name}")
    } | dict(variables.get("app_server_knobs") or {})
    requests = [
        {"name": name, "role": "main", "port": 8000 + index, "interface": ""}
        for index, name in enumerate(servers)
    ]
    deployments = APP_SERVER_FILTERS.app_server_deployments(
        requests,
        CATALOG,
        int(facts["ansible_processor_vcpus"]),
        overrides,
        bind_address="127.0.0.1",
        settings={},
        timeouts={},
    )
    budget = {key: int(variables[f"app_server_{key}"]) for key in LIMIT_BUDGET_KEYS}
    planned = APP_SERVER_FILTERS.app_server_unit_limits(
        deployments, int(facts["ansible_memtotal_mb"]), budget
    )
    return {
        deployment["name"]: {**deployment["limits"], "instances": deployment["knobs"]["instances"]}
        for deployment in planned
    }
