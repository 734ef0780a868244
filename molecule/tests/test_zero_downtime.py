"""Zero downtime on every server, straight on its port: a code redeploy of all six hosts at once
(one run of site.yml, each host's own probe) loses no request, and a request in flight when the
server stops is answered. (Through Caddy: the switch scenario.)"""

from __future__ import annotations

from testinfra.host import Host

import os
import shlex
from pathlib import Path
from typing import Any

import pytest
import testinfra
import testinfra.utils.ansible_runner

from conftest import LAYOUT, deployment_of
from operations import (
    LIVENESS_PATH,
    Measured,
    collect_results,
    failures,
    launch_probes,
    probe_urls,
    record,
    release_source,
    request_stop,
    run_playbook,
    wait_until_ready,
)

INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(INVENTORY).get_hosts("all")
# The slow request in flight while its server stops (the scenario allows up to 5 s).
SLOW_SECONDS = 2
# The slow request's own local port, so the test waits for that connection and no other.
CLIENT_PORT = 47000


@pytest.fixture(scope="module")
def redeploy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Measured]:
    """One site.yml run deploying a new release to every host, each host loaded by its probe on
    the server's own port; the measured operation by host name.

    Six hosts converge on 2 cores here, so the probes ask the liveness view: starved that way,
    the checking view's Redis PING (0.5 s timeout) and SQLite reads answered 503 now and then on
    the old release as much as on the new, which says nothing of the handover. The switch
    scenario probes the checking view, through Caddy and on the port, on one host."""
    source = release_source(tmp_path_factory.mktemp("redeploy"), "redeploy")
    hosts = {
        name: testinfra.get_host(f"ansible://{name}?ansible_inventory={INVENTORY}")
        for name in testinfra_hosts
    }
    urls = {
        name: {"direct": probe_urls(host, LIVENESS_PATH)["direct"]} for name, host in hosts.items()
    }
    # Every host's probes start before any is waited for, and are told to stop before any is
    # waited for: the hosts' starts and stops overlap instead of adding up.
    launched = []
    try:
        for name, host in hosts.items():
            launch_probes(host, urls[name])
            launched.append(name)
        for name in launched:
            wait_until_ready(hosts[name], urls[name])
        returncode, output, seconds = run_playbook(
            "site.yml", "-e", f"django_app_source_dir={source}"
        )
    finally:
        for name in launched:
            request_stop(hosts[name], list(urls[name]))
        results = {name: collect_results(hosts[name], list(urls[name])) for name in launched}
    measured = {}
    for name, host in hosts.items():
        server = deployment_of(host).server
        measured[name] = Measured("redeploy", server, seconds, returncode, output, results[name])
        record(measured[name])
    return measured


def _host_name(host: Host) -> str:
    return str(host.backend.host)


def test_a_code_redeploy_loses_no_request(host: Host, redeploy: dict[str, Measured]) -> None:
    measured = redeploy[_host_name(host)]
    assert measured.returncode == 0, measured.output[-3000:]
    for probe in measured.probes:
        assert measured.probes[probe]["failed"] == 0, failures(measured, probe)


def test_the_probe_saw_both_releases_answer(host: Host, redeploy: dict[str, Measured]) -> None:
    """The handover happened while the probe loaded the port: old and new release answered."""
    answered: dict[str, Any] = redeploy[_host_name(host)].probes["direct"]["answers_by"]
    releases = answered["header:x-app-release"]
    current = Path(host.file(LAYOUT["layout_app_root"] + "/current").linked_to).name
    assert current in releases, releases
    assert len(releases) == 2, releases


def test_a_request_in_flight_is_answered_through_a_stop(host: Host) -> None:
    """A slow request is in flight when its server's units stop: the server drains (its own
    graceful stop under KillMode=mixed; Daphne's through files/daphne_drain.py) and answers it
    with 200."""
    deployment = deployment_of(host)
    units = " ".join(deployment.units)
    url = f"{deployment.base_url}/api/slow?seconds={SLOW_SECONDS}"
    script = f"""
        set -u
        curl --silent --max-time 30 --local-port {CLIENT_PORT} --output /dev/null \
            --write-out '%{{http_code}}' {shlex.quote(url)} > /tmp/slow.code &
        client=$!
        # Wait until the request is in flight: a server process has accepted this client's
        # connection (ss names its owner; a connection still queued has none), has received
        # bytes on it and read them all (Recv-Q 0). Before that, a stop would find no request.
        in_flight='( sport = :{deployment.port} and dport = :{CLIENT_PORT} )'
        timeout 10 sh -c "until ss -Htnpi state established '$in_flight' | tr '\\n' ' ' \
            | grep -Eq '^0 .*users:.*bytes_received:[1-9]'; do sleep 0.05; done"
        systemctl stop {units}
        wait "$client"
        cat /tmp/slow.code
    """
    with host.sudo():
        result = host.run(f"bash -c {shlex.quote(script)}")
        host.run_expect([0], f"systemctl start {units}")
        healthy = host.run(
            "timeout 30 sh -c "
            + shlex.quote(
                f"until curl --silent --fail --output /dev/null {deployment.base_url}/api/health;"
                " do sleep 0.1; done"
            )
        )
    assert result.stdout.strip() == "200", result.stdout + result.stderr
    assert healthy.rc == 0, f"{units} not healthy again after a start"
