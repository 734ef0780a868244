"""Shared paths and loaders for the controller-side tests."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
ROLES_DIR = REPO_ROOT / "roles"
APP_SERVER_ROLE = ROLES_DIR / "app_server"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_catalog(repo_root: Path = REPO_ROOT) -> dict[str, dict[str, Any]]:
    """The server catalog, the one list of servers (roles/app_server/vars/main.yml)."""
    vars_file = repo_root / "roles" / "app_server" / "vars" / "main.yml"
    catalog: dict[str, dict[str, Any]] = load_yaml(vars_file)["app_server_catalog"]
    return catalog


def load_plugin(role: str, kind: str) -> ModuleType:
    """A role's plugin file (kind: filter_plugins, test_plugins), named after the role, loaded
    by its path."""
    path = ROLES_DIR / role / kind / f"{role}.py"
    spec = importlib.util.spec_from_file_location(f"{role}_{kind}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_filter_plugin() -> ModuleType:
    """The app_server role's filter plugin."""
    return load_plugin("app_server", "filter_plugins")


CATALOG = load_catalog()

# An inventory whose only host cannot be reached: a run that gets past the checks fails to
# connect rather than change anything.
UNREACHABLE_INVENTORY = """\
lab:
  hosts:
    nowhere:
      ansible_connection: community.docker.docker
      ansible_host: dsl-test-host-that-does-not-exist
"""


def ansible_playbook(
    *args: str, repo_root: Path = REPO_ROOT, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ansible-playbook from a repository root with its ansible.cfg, no colours."""
    return subprocess.run(
        ["ansible-playbook", *args],
        capture_output=True,
        text=True,
        cwd=repo_root,
        env={
            **os.environ,
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_CONFIG": str(repo_root / "ansible.cfg"),
            **(extra_env or {}),
        },
        timeout=120,
        check=False,
    )


def copy_repository(target: Path) -> None:
    """The working tree's files as git sees them (tracked and new, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source, destination = REPO_ROOT / name, target / name
        if not source.exists() and not source.is_symlink():
            continue  # deleted in the working tree
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            destination.symlink_to(source.readlink())
        else:
            shutil.copy2(source, destination)


def derive(repo: Path, mode: str) -> subprocess.CompletedProcess[str]:
    """Run a repository's scripts/derive.py (--check or --write)."""
    return subprocess.run(
        [sys.executable, str(repo / "scripts" / "derive.py"), mode],
        capture_output=True,
        text=True,
        check=False,
    )
