"""After switching from `switch_from` to `server`, nothing of the old server is left."""

from __future__ import annotations

from testinfra.host import Host

import os

import testinfra.utils.ansible_runner

from conftest import CATALOG, LAYOUT

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("all")


def _old_server(host: Host) -> str:
    return str(host.ansible.get_variables()["switch_from"])


def test_old_server_units_are_inactive_and_disabled(host: Host) -> None:
    old = _old_server(host)
    listed = host.check_output(f"systemctl list-units --all --plain --no-legend 'django-{old}*'")
    for line in listed.splitlines():
        # The unit files are gone, so systemd knows the units only as "not found".
        unit, _load, active, *_ = line.split()
        assert active in {"inactive", "unknown"}, f"{unit} is {active}"
    links = host.run(f"find /etc/systemd/system -name 'django-{old}*'")
    assert links.stdout.strip() == "", links.stdout


def test_old_server_files_are_gone(host: Host) -> None:
    old = _old_server(host)
    assert not host.file(f"/etc/systemd/system/django-{old}@.service").exists
    assert not host.file(f"/etc/systemd/system/django-{old}.socket").exists
    if CATALOG[old]["config_file"]:
        with host.sudo():
            config = f"{LAYOUT['layout_config_dir']}/{CATALOG[old]['config_file']}"
            assert not host.file(config).exists


def test_no_old_server_process_runs(host: Host) -> None:
    old = _old_server(host)
    processes = host.run(f"pgrep -u django -f 'bin/{old} '")
    assert processes.rc == 1, processes.stdout


def test_new_server_owns_the_port(host: Host) -> None:
    new = host.ansible.get_variables()["server"]
    listener = host.check_output(f"ss -Hltnp 'sport = :{LAYOUT['layout_app_port']}'")
    assert new in listener, listener


def test_no_app_server_unit_is_left_failed(host: Host) -> None:
    # side_effect left switch_stale_failed_unit failed before switching; the switch forgets it.
    stale = str(host.ansible.get_variables()["switch_stale_failed_unit"])
    failed = host.check_output(
        "systemctl list-units --all --state=failed --plain --no-legend --no-pager 'django-*'"
    )
    assert failed == "", failed
    assert host.run(f"systemctl is-failed --quiet {stale}").rc != 0
