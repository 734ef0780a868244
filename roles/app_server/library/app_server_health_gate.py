#!/usr/bin/python3
"""Ansible module: wait until a new revision's own processes answer healthy on a shared port."""

from __future__ import annotations

import http.client
import json
import subprocess
import time
import urllib.parse
from pathlib import Path
from typing import Any

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: app_server_health_gate
short_description: Wait until a new revision's own processes answer its health checks
description:
  - During a handover the old and the new revision of a server listen on the same port
    (SO_REUSEPORT), so an answer on the port may come from either. This module asks each path
    on fresh connections until it has O(answers) answers with status 200 whose JSON C(pid) is a
    process of the new units, and at least one from each new unit (every Daphne instance has
    loaded the app before the old ones stop), and fails at once when a new unit fails or
    restarts (a release that cannot start), with its last answer and the end of its journal in
    the message.
options:
  url:
    description: Base URL of the port, e.g. http://127.0.0.1:8000.
    type: str
    required: true
  paths:
    description: Paths that must answer 200 from the new processes.
    type: list
    elements: str
    required: true
  units:
    description: The new revision's systemd units.
    type: list
    elements: str
    required: true
  timeout:
    description: Seconds to wait in all.
    type: int
    default: 60
  answers:
    description: Healthy answers from the new processes each path needs.
    type: int
    default: 2
author: Django Server Lab
"""

EXAMPLES = r"""
- name: Gate on the new revision's health
  app_server_health_gate:
    url: http://127.0.0.1:8000
    paths: [/api/health, /api/health/sync]
    units: [django-granian@0123456789ab-1.service]
"""

RETURN = r"""
answers:
  description: Healthy answers from the new processes per path.
  type: dict
  returned: always
other_answers:
  description: Answers that came from other processes (the old revision) while waiting.
  type: int
  returned: always
seconds:
  description: Seconds the gate took.
  type: float
  returned: always
"""

JOURNAL_LINES = 15


def systemctl_show(unit: str, *properties: str) -> dict[str, str]:
    output = subprocess.run(
        ["systemctl", "show", unit, *(f"--property={name}" for name in properties)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


def unit_pids(unit: str) -> set[int]:
    """Every process of the unit: its cgroup's (v2, or v1's systemd hierarchy)."""
    group = systemctl_show(unit, "ControlGroup").get("ControlGroup", "")
    pids: set[int] = set()
    if group:
        for root in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/systemd")):
            directory = root / group.lstrip("/")
            if (directory / "cgroup.procs").exists():
                for procs in directory.rglob("cgroup.procs"):
                    pids.update(int(pid) for pid in procs.read_text().split())
                break
    return pids


def journal_tail(unit: str) -> str:
    return subprocess.run(
        [
            "journalctl",
            "--unit",
            unit,
            "--lines",
            str(JOURNAL_LINES),
            "--no-pager",
            "--output",
            "cat",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


def ask(url: str, path: str) -> tuple[int, str, dict[str, Any]]:
    """One GET on a fresh connection: status, body text and the JSON body (empty if none)."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port or 80, timeout=5
    )
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
    finally:
        connection.close()
    try:
        document = json.loads(body)
    except ValueError:
        document = {}
    return response.status, body, document if isinstance(document, dict) else {}


def failed_units(units: list[str]) -> list[str]:
    """Units that failed or that systemd already restarted: the release cannot start."""
    failed = []
    for unit in units:
        state = systemctl_show(unit, "ActiveState", "NRestarts", "Result")
        if state.get("ActiveState") == "failed" or int(state.get("NRestarts", "0") or 0) > 0:
            failed.append(unit)
    return failed


def run_gate(module: AnsibleModule) -> None:
    params = module.params
    started = time.monotonic()
    deadline = started + params["timeout"]
    answers = dict.fromkeys(params["paths"], 0)
    units = set(params["units"])
    units_answered: set[str] = set()
    other_answers = 0
    last_own: dict[str, str] = {}
    last_error = ""

    def finish(msg: str = "") -> None:
        """Exit with what the gate saw: healthy when no message, failed with it otherwise."""
        seen = {
            "answers": answers,
            "other_answers": other_answers,
            "seconds": round(time.monotonic() - started, 2),
        }
        if msg:
            module.fail_json(msg=msg, **seen)
        module.exit_json(changed=False, **seen)

    while time.monotonic() < deadline:
        broken = failed_units(params["units"])
        if broken:
            finish(
                f"{', '.join(broken)} failed or restarted before answering healthy: the new "
                f"revision cannot start. Last answers from it: {last_own or 'none'}. "
                f"Journal of {broken[0]}:\n{journal_tail(broken[0])}"
            )
        pids_of = {unit: unit_pids(unit) for unit in units}
        pids = set().union(*pids_of.values())
        for path, count in answers.items():
            if count >= params["answers"] and units_answered >= units:
                continue
            try:
                status, body, document = ask(params["url"], path)
            except OSError as error:
                last_error = f"{path}: {error}"
                continue
            if document.get("pid") not in pids:
                other_answers += 1
                continue
            if status == 200:
                answers[path] += 1
                units_answered.update(
                    unit for unit, own in pids_of.items() if document["pid"] in own
                )
            else:
                last_own[path] = f"{status} {body[:300]}"
        if units_answered >= units and all(
            count >= params["answers"] for count in answers.values()
        ):
            finish()
        time.sleep(0.05)
    finish(
        f"{', '.join(params['units'])} did not answer healthy on {params['url']} within "
        f"{params['timeout']} s (healthy answers per path: {answers}; units that answered: "
        f"{sorted(units_answered) or 'none'}). Last answers from it: "
        f"{last_own or 'none'}. Last connection error: {last_error or 'none'}. Journal of "
        f"{params['units'][0]}:\n{journal_tail(params['units'][0])}"
    )


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "paths": {"type": "list", "elements": "str", "required": True},
            "units": {"type": "list", "elements": "str", "required": True},
            "timeout": {"type": "int", "default": 60},
            "answers": {"type": "int", "default": 2},
        },
        supports_check_mode=True,
    )
    if module.check_mode:
        module.exit_json(changed=False, answers={}, other_answers=0, seconds=0.0)
    run_gate(module)


if __name__ == "__main__":
    main()
