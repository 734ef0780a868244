"""The host_secret module (roles/host_secret/library), run by Ansible on this machine: a secret
is generated once with mode 0600, kept, rotated on demand, refused when too short, only
reported in check mode, and never part of the module's result."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

from conftest import REPO_ROOT, ROLES_DIR

JSON_CONFIG = Path(__file__).parent / "ansible-json.cfg"


def run_module(*args: str, check: bool = False) -> dict[str, Any]:
    """One ad-hoc run of the module on localhost; its result as Ansible's JSON callback has it
    (an ansible.cfg of its own: the project's adds a timing callback to stdout)."""
    result = subprocess.run(
        [
            "ansible",
            "localhost",
            "-M",
            str(ROLES_DIR / "host_secret" / "library"),
            "-m",
            "host_secret",
            "-a",
            " ".join(args),
            *(["--check"] if check else []),
        ],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={
            **os.environ,
            "ANSIBLE_CONFIG": str(JSON_CONFIG),
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
            "ANSIBLE_INVENTORY": "localhost,",
            "ANSIBLE_LOCALHOST_WARNING": "0",
        },
        timeout=60,
        check=False,
    )
    document = json.loads(result.stdout)
    (host_result,) = document["plays"][0]["tasks"][0]["hosts"].values()
    return host_result


def test_a_missing_secret_is_generated_privately_and_then_kept(tmp_path: Path) -> None:
    path = tmp_path / "key"
    made = run_module(f"path={path}", "length=50", "min_length=50")
    assert made["changed"] is True
    assert made["generated"] is True
    assert made["msg"] == f"{path} was generated"
    secret = path.read_text().strip()
    assert len(secret) == 50
    assert secret not in json.dumps(made)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [entry.name for entry in tmp_path.iterdir()] == ["key"]  # no temporary file left
    kept = run_module(f"path={path}", "length=50", "min_length=50")
    assert kept["changed"] is False
    assert kept["msg"] == f"{path} is kept"
    assert path.read_text().strip() == secret


def test_hex_secrets_have_the_length_asked(tmp_path: Path) -> None:
    path = tmp_path / "password"
    assert run_module(f"path={path}", "length=48", "min_length=32", "alphabet=hex")["changed"]
    secret = path.read_text().strip()
    assert len(secret) == 48
    int(secret, 16)


def test_rotate_replaces_the_secret(tmp_path: Path) -> None:
    path = tmp_path / "key"
    run_module(f"path={path}", "length=40", "min_length=32")
    first = path.read_text()
    rotated = run_module(f"path={path}", "length=40", "min_length=32", "rotate=true")
    assert rotated["changed"] is True
    assert path.read_text() != first


def test_a_short_secret_is_refused_not_used(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("generated-on-first-run\n")
    refused = run_module(f"path={path}", "length=50", "min_length=50")
    assert refused.get("failed") is True
    assert "22 characters, below the minimum of 50" in refused["msg"]
    assert "rotate_secrets=true" in refused["msg"]
    replaced = run_module(f"path={path}", "length=50", "min_length=50", "rotate=true")
    assert replaced["changed"] is True
    assert len(path.read_text().strip()) == 50


def test_check_mode_reports_a_secret_it_would_generate(tmp_path: Path) -> None:
    path = tmp_path / "key"
    planned = run_module(f"path={path}", "length=50", "min_length=50", check=True)
    assert planned["changed"] is True
    assert planned["msg"] == f"{path} will be generated"
    assert not path.exists()
    # A folder a package will make (check mode on a new host) is no error either.
    absent = tmp_path / "absent" / "key"
    planned = run_module(f"path={absent}", "length=50", "min_length=50", check=True)
    assert planned["msg"] == f"{absent} will be generated"


def test_a_missing_folder_fails_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "absent" / "key"
    failed = run_module(f"path={path}", "length=50", "min_length=50")
    assert failed.get("failed") is True
    assert failed["msg"] == f"{path}: its folder does not exist."
