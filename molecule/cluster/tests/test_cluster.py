"""The cluster, tested from its own hosts (molecule.yml): Caddy on the proxy balances over two app
hosts that share PostgreSQL and Redis on the data host; requests come from the load generator,
over the scenario's Docker network, as a client's would."""

from __future__ import annotations

from testinfra.host import Host

import json
import os
import shlex
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import testinfra
import testinfra.utils.ansible_runner
import yaml

from conftest import LAYOUT
from operations import failures, measure, run_playbook, start_probe, stop_probe

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY)
# The tests below name the hosts they use; the host fixture is the proxy.
testinfra_hosts = RUNNER.get_hosts("proxy")

PLATFORMS = yaml.safe_load((Path(__file__).parents[1] / "molecule.yml").read_text())["platforms"]
# Each host's fixed address on the scenario's network.
ADDRESS = {item["name"]: item["networks"][0]["ipv4_address"] for item in PLATFORMS}
PROXY = RUNNER.get_hosts("proxy")[0]
APP_HOSTS = RUNNER.get_hosts("app")
DATA = RUNNER.get_hosts("db")[0]
LOAD = RUNNER.get_hosts("loadgen")[0]
APP_PORT = int(LAYOUT["layout_app_port"])
CURRENT = f"{LAYOUT['layout_app_root']}/current"
ENV_FILE = f"{LAYOUT['layout_config_dir']}/app.env"
# The proxy's plain-HTTP site (open to the network: the inventory has a load generator).
PROXY_URL = f"http://{ADDRESS[PROXY]}:{LAYOUT['layout_http_port']}"
# What Caddy names in X-Served-By: each app host's address and server port.
UPSTREAM = {name: f"{ADDRESS[name]}:{APP_PORT}" for name in APP_HOSTS}
# Seconds a dropped SYN (the firewall) is given before the connection counts as refused.
CONNECT_TIMEOUT = 3
# Bounds of the waits for Caddy's health checks (every 2 s) to see a host go or come back.
POOL_WAIT_SECONDS = 30

# Sequential keep-alive GETs from a host's python3 (the load generator has no curl): prints
# {"answers": {X-Served-By: count}, "failed": n}.
COUNTER = """
import http.client, json, sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
answers, failed, connection = {}, 0, None
for _ in range(int(sys.argv[2])):
    try:
        connection = connection or http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        connection.request("GET", url.path)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            failed += 1
        name = response.getheader("X-Served-By", "none")
        answers[name] = answers.get(name, 0) + 1
    except OSError:
        failed, connection = failed + 1, None
print(json.dumps({"answers": answers, "failed": failed}))
"""

# Until the served-by set of a window of requests is what is wanted (or the bound): prints the
# last window's counts.
WAIT_FOR_POOL = """
import subprocess, sys, time, json
counter, url, wanted = sys.argv[1], sys.argv[2], set(json.loads(sys.argv[3]))
deadline = time.monotonic() + float(sys.argv[4])
while True:
    window = json.loads(subprocess.run([sys.executable, "-c", counter, url, "40"],
                                       capture_output=True, text=True, check=True).stdout)
    if set(window["answers"]) == wanted or time.monotonic() > deadline:
        print(json.dumps(window))
        break
"""


def _host(name: str) -> Host:
    return testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")


@pytest.fixture(scope="module")
def load() -> Host:
    return _host(LOAD)


def _count(load: Host, path: str, requests: int) -> dict[str, object]:
    """Requests through the proxy from the load generator, counted by serving app host."""
    result = load.run_expect(
        [0], shlex.join(["python3", "-c", COUNTER, PROXY_URL + path, str(requests)])
    )
    counts: dict[str, object] = json.loads(result.stdout)
    return counts


def _wait_for_pool(load: Host, app_hosts: list[str]) -> dict[str, object]:
    """Wait until the proxy's answers come from exactly these app hosts; the last window."""
    wanted = json.dumps(sorted(UPSTREAM[name] for name in app_hosts))
    command = ["python3", "-c", WAIT_FOR_POOL, COUNTER, PROXY_URL + "/api/health", wanted]
    result = load.run_expect([0], shlex.join([*command, str(POOL_WAIT_SECONDS)]))
    window: dict[str, object] = json.loads(result.stdout)
    return window


def test_both_app_hosts_serve_through_the_proxy(load: Host) -> None:
    counts = _count(load, "/api/health", 1000)
    answers = Counter(counts["answers"])  # type: ignore[arg-type]
    assert counts["failed"] == 0, counts
    assert sum(answers.values()) == 1000, counts
    # Least-connections with one request at a time picks at random among idle hosts: each of
    # the two gets about half, and far more than a tenth.
    for name, upstream in UPSTREAM.items():
        assert answers[upstream] >= 100, (
            f"{name} ({upstream}) answered {answers[upstream]}: {counts}"
        )


def _manage(host: Host, code: str) -> str:
    """Run Python in the app's Django shell on an app host, as the app user with its env file."""
    command = [
        "systemd-run", "--quiet", "--wait", "--pipe", "--collect",
        f"--property=EnvironmentFile={ENV_FILE}",
        f"--working-directory={CURRENT}",
        f"--uid={LAYOUT['layout_app_user']}", f"--gid={LAYOUT['layout_app_group']}",
        f"{CURRENT}/.venv/bin/python", "manage.py", "shell", "-c", code,
    ]  # fmt: skip
    with host.sudo():
        return host.run_expect([0], shlex.join(command)).stdout.strip()


@pytest.fixture
def written_row() -> Iterator[str]:
    """A movie row written through the first app host's Django (its ORM and database URL); it
    is deleted again afterwards."""
    title = f"cluster row {uuid.uuid4().hex[:12]}"
    writer = _host(APP_HOSTS[0])
    _manage(
        writer,
        f"from demo.models import Movie; Movie.objects.create(title={title!r}, year=2026, "
        "rating=5.0, genre='Test', director='Molecule', runtime_minutes=90)",
    )
    yield title
    _manage(
        writer, f"from demo.models import Movie; Movie.objects.filter(title={title!r}).delete()"
    )


def test_a_row_written_through_one_app_host_is_read_through_the_other(written_row: str) -> None:
    reader = _host(APP_HOSTS[1])
    base = f"http://127.0.0.1:{APP_PORT}/api/demo/movies"
    count = json.loads(reader.check_output(f"curl -sf '{base}?limit=1'"))["count"]
    last = json.loads(reader.check_output(f"curl -sf '{base}?limit=1&offset={count - 1}'"))
    assert [item["title"] for item in last["items"]] == [written_row]


def _connects(source: Host, address: str, port: int) -> bool:
    """Whether a TCP connection from the host's python3 to address:port is made."""
    script = (
        "import socket, sys\n"
        "try:\n"
        f"    socket.create_connection(({address!r}, {port}), timeout={CONNECT_TIMEOUT}).close()\n"
        "except OSError:\n"
        "    sys.exit(1)\n"
    )
    return source.run(shlex.join(["python3", "-c", script])).rc == 0


@pytest.mark.parametrize(
    "port", [int(LAYOUT["layout_postgresql_port"]), int(LAYOUT["layout_redis_port"])]
)
def test_postgresql_and_redis_admit_only_the_app_hosts(port: int) -> None:
    for name in APP_HOSTS:
        assert _connects(_host(name), ADDRESS[DATA], port), (
            f"app host {name} cannot reach port {port}"
        )
    for name in (PROXY, LOAD):
        assert not _connects(_host(name), ADDRESS[DATA], port), (
            f"{name} reaches port {port} of {DATA}"
        )


def test_an_app_host_stopped_under_load_costs_no_request(load: Host) -> None:
    stopped = _host(APP_HOSTS[1])
    units = stopped.check_output(
        "systemctl list-units --plain --no-legend --state=active 'django-*@*.service'"
        " | awk '{print $1}'"
    ).split()
    assert units
    start_probe(load, "stop", PROXY_URL + "/api/health/sync")
    try:
        with stopped.sudo():
            stopped.run_expect([0], shlex.join(["systemctl", "stop", *units]))
        marked_down = _wait_for_pool(load, APP_HOSTS[:1])
        after = _count(load, "/api/health/sync", 200)
    finally:
        result = stop_probe(load, "stop")
        with stopped.sudo():
            stopped.run_expect([0], shlex.join(["systemctl", "start", *units]))
    assert set(marked_down["answers"]) == {UPSTREAM[APP_HOSTS[0]]}, marked_down  # type: ignore[arg-type]
    assert after == {"answers": {UPSTREAM[APP_HOSTS[0]]: 200}, "failed": 0}
    assert result["failed"] == 0, (
        f"{result['failed']} of {result['requests']}: {result['failures'][:3]}"
    )
    back = _wait_for_pool(load, APP_HOSTS)
    assert set(back["answers"]) == set(UPSTREAM.values()), back  # type: ignore[arg-type]


def test_a_rolling_switch_under_load_costs_no_request(load: Host) -> None:
    measured = measure(
        load,
        "rolling switch of 2 app hosts behind Caddy",
        "gunicorn",
        {"proxy": PROXY_URL + "/api/health/sync"},
        lambda: run_playbook("site.yml", "-e", "server=gunicorn"),
    )
    assert measured.returncode == 0, measured.output[-3000:]
    assert measured.probes["proxy"]["failed"] == 0, failures(measured, "proxy")
    # Each app host left the pool, drained and came back, one after the other.
    for name in APP_HOSTS:
        assert f"changed: [{name} -> {PROXY}" in measured.output, measured.output[-3000:]
    for name in APP_HOSTS:
        units = _host(name).check_output(
            "systemctl list-units --plain --no-legend 'django-*@*.service'"
        )
        assert "django-gunicorn@" in units, units
        assert "django-granian@" not in units, units
    back = _wait_for_pool(load, APP_HOSTS)
    assert set(back["answers"]) == set(UPSTREAM.values()), back  # type: ignore[arg-type]


def test_the_benchmark_loads_the_proxy_from_the_load_host_and_counts_each_app_host(
    tmp_path: Path,
) -> None:
    """playbooks/benchmark.yml on the cluster inventory, short: one round of closed-loop runs on
    one endpoint, wrk on the load host against the proxy's Caddy, answers counted by app host."""
    returncode, output, _ = run_playbook(
        "playbooks/benchmark.yml",
        "-e",
        json.dumps(
            {
                "servers": "gunicorn",
                "benchmark_endpoints": ["health"],
                "benchmark_rounds": 1,
                "benchmark_duration": "2s",
                "benchmark_warmup": "1s",
                "benchmark_ceiling_seconds": 0.5,
                "fixed_rate": False,
                "benchmark_results_dir": str(tmp_path),
            }
        ),
    )
    assert returncode == 0, output[-3000:]
    (results_dir,) = [path.parent for path in tmp_path.glob("*/results.json")]
    assert json.loads((results_dir / "failures.json").read_text()) == []
    topology = json.loads((results_dir / "topology.json").read_text())
    assert topology["app_hosts"] == APP_HOSTS, topology
    report = (results_dir / "report.md").read_text()
    # The containers share the machine's cores: the report says what that means.
    assert "This run proves function, not scaling." in report
    answers = report.split("Answers per app host", 1)[1]
    rows = [line for line in answers.splitlines() if line.startswith("|")][:3]
    header, _, run = (row.strip("|").split("|") for row in rows)
    for name in APP_HOSTS:
        column = [cell.strip() for cell in header].index(name)
        answered = int(run[column].split()[0].replace(",", ""))
        assert answered > 0, (name, rows)
