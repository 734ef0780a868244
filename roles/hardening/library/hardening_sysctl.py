#!/usr/bin/python
"""Ansible module: apply kernel settings that differ from the running ones, where writable.

The settings' file under /etc/sysctl.d/ (written by the role) is what a boot reads; this
module only brings the running kernel in line without a reboot. Each setting is read from
/proc/sys; one that already has its value is left alone, one that differs is written when its
/proc/sys file is writable, and reported otherwise: in a container /proc/sys is read-only (the
kernel is the host's; a network namespace's net.* settings are given at its creation) and on
some kernels a key does not exist (e.g. without Yama). Neither fails the run; the caller
decides. In check mode nothing is written: a writable setting that differs is a change.
"""

from __future__ import annotations

import os
from pathlib import Path

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: hardening_sysctl
short_description: Apply kernel settings that differ from the running ones, where writable.
options:
  settings: {type: dict, required: true, description: Kernel settings, name to value.}
  proc_sys: {type: path, default: /proc/sys, description: Where the running settings are.}
"""

RETURN = r"""
applied: {type: list, description: Settings written (or, in check mode, to be written).}
read_only: {type: list, description: Settings that differ but cannot be written here.}
missing: {type: list, description: Settings this kernel does not have.}
"""


def normalise(value: object) -> str:
    """Compare as sysctl prints: fields separated by single spaces (tabs in port ranges)."""
    return " ".join(str(value).split())


def forwarding_first(name: str) -> tuple[bool, str]:
    """Writing a forwarding switch resets all.accept_redirects (the kernel's
    inet_forward_change): forwarding goes first, so the redirect settings after it hold."""
    return (not (name.endswith(".forwarding") or name.endswith(".ip_forward")), name)


def setting_path(proc_sys: Path, name: str) -> Path:
    return proc_sys / name.replace(".", "/")


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "settings": {"type": "dict", "required": True},
            "proc_sys": {"type": "path", "default": "/proc/sys"},
        },
        supports_check_mode=True,
    )
    proc_sys = Path(module.params["proc_sys"])
    applied: list[str] = []
    read_only: list[str] = []
    missing: list[str] = []
    for name in sorted(module.params["settings"], key=forwarding_first):
        wanted = module.params["settings"][name]
        path = setting_path(proc_sys, name)
        try:
            running = path.read_text(encoding="ascii")
        except FileNotFoundError:
            missing.append(name)
            continue
        except OSError as error:
            module.fail_json(msg=f"{name}: cannot read {path}: {error}")
        if normalise(running) == normalise(wanted):
            continue
        if not os.access(path, os.W_OK):
            read_only.append(f"{name}={normalise(wanted)} (running: {normalise(running)})")
            continue
        applied.append(f"{name}={normalise(wanted)} (was: {normalise(running)})")
        if module.check_mode:
            continue
        try:
            path.write_text(normalise(wanted) + "\n", encoding="ascii")
        except OSError as error:
            module.fail_json(msg=f"{name}: cannot write {normalise(wanted)!r} to {path}: {error}")
    module.exit_json(changed=bool(applied), applied=applied, read_only=read_only, missing=missing)


if __name__ == "__main__":
    main()
