"""Every app-server unit on the host is locked down and bounded: `systemd-analyze security`
exposure at most 1.0, memory and task limits as the role computes them for this host, secrets
readable by the app but owned by root, and the release read-only to the app user."""

from __future__ import annotations

from testinfra.host import Host

import os

import pytest
import testinfra.utils.ansible_runner

from conftest import LAYOUT, app_units, expected_unit_limits, exposure_of

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("all")

# The bar for every app unit (systemd-analyze's scale: 0 safest, 10 worst).
MAX_EXPOSURE = 1.0
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def units(host: Host) -> dict[str, list[str]]:
    found = app_units(host)
    assert found, "no django-<server>@ units on the host"
    return found


def test_every_app_unit_exposure_is_at_most_1(host: Host, units: dict[str, list[str]]) -> None:
    exposures = {unit: exposure_of(host, unit) for group in units.values() for unit in group}
    too_exposed = {unit: level for unit, level in exposures.items() if level > MAX_EXPOSURE}
    assert too_exposed == {}, f"exposure above {MAX_EXPOSURE}: {too_exposed}"


def test_limits_are_the_roles_formula_for_this_host(
    host: Host, units: dict[str, list[str]]
) -> None:
    expected = expected_unit_limits(host, list(units))
    for server, server_units in units.items():
        limits = expected[server]
        assert len(server_units) == limits["instances"], server
        for unit in server_units:
            shown = dict(
                line.split("=", 1)
                for line in host.check_output(
                    f"systemctl show --property MemoryMax,MemoryHigh,TasksMax {unit}"
                ).splitlines()
            )
            assert shown == {
                "MemoryMax": str(limits["memory_max_mb"] * MIB),
                "MemoryHigh": str(limits["memory_high_mb"] * MIB),
                "TasksMax": str(limits["tasks_max"]),
            }, unit


def test_units_write_only_the_shared_directory(host: Host, units: dict[str, list[str]]) -> None:
    for unit in (unit for group in units.values() for unit in group):
        paths = host.check_output(f"systemctl show --property ReadWritePaths --value {unit}")
        assert paths.split() == [f"{LAYOUT['layout_app_root']}/shared"], unit


def test_app_user_reads_but_cannot_rewrite_the_env_file(host: Host) -> None:
    # Owner, group and mode: test_deploy.py's test_env_file_is_private.
    env_file = f"{LAYOUT['layout_config_dir']}/app.env"
    with host.sudo():
        readable = host.run(f"runuser -u {LAYOUT['layout_app_user']} -- test -r {env_file}")
        writable = host.run(f"runuser -u {LAYOUT['layout_app_user']} -- test -w {env_file}")
    assert readable.rc == 0
    assert writable.rc != 0


def test_release_is_read_only_to_the_app_user(host: Host) -> None:
    current = f"{LAYOUT['layout_app_root']}/current"
    with host.sudo():
        for path in (current, f"{current}/manage.py", f"{current}/.venv/bin"):
            writable = host.run(f"runuser -u {LAYOUT['layout_app_user']} -- test -w {path}")
            assert writable.rc != 0, f"the app user can write {path}"
