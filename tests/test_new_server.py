"""Adding a server is a catalog entry: a fake seventh server, added to the catalog of a copy of
the repository, is picked up by validation, the docs, the test matrix and the benchmark's
defaults once scripts/derive.py has run, and the copy is stale until it has."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import (
    UNREACHABLE_INVENTORY,
    ansible_playbook,
    copy_repository,
    derive,
    load_catalog,
)

FAKE_SERVER = "fakeserve"
# A server whose command line is its whole config, like Uvicorn: no template to add.
FAKE_ENTRY = f"""\
  {FAKE_SERVER}:
    interfaces: [asgi]
    packages: [{FAKE_SERVER}==1.0]
    executable: {FAKE_SERVER}
    args: ["{{{{ app_server_targets.asgi }}}}"]
    config_template: ""
    config_file: ""
    sd_notify: false
    stop_signal: SIGTERM
    reload_signal: ""
    serves_static: false
    listen_socket: bound
    main_exits_late: false
    binds_host_names: true
    scales: workers
    per_vcpu: 3
    threads: 1
    knobs: {{}}
    sweep: [{{workers: 1}}]
"""
CATALOG_END = "\n# The app's entry points, by interface."


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("repo")
    copy_repository(copy)
    catalog_file = copy / "roles" / "app_server" / "vars" / "main.yml"
    text = catalog_file.read_text()
    assert CATALOG_END in text
    catalog_file.write_text(text.replace(CATALOG_END, "\n" + FAKE_ENTRY + CATALOG_END, 1))
    stale = derive(copy, "--check")
    assert stale.returncode == 1, stale.stdout + stale.stderr
    for derived in ("README.md", "molecule/default/molecule.yml", "argument_specs.yml"):
        assert derived in stale.stdout
    written = derive(copy, "--write")
    assert written.returncode == 0, written.stderr
    assert derive(copy, "--check").returncode == 0
    return copy


@pytest.fixture
def inventory(tmp_path: Path) -> str:
    path = tmp_path / "inventory.yml"
    path.write_text(UNREACHABLE_INVENTORY)
    return str(path)


def test_the_copy_has_the_new_server(repo: Path) -> None:
    assert FAKE_SERVER in load_catalog(repo)
    assert FAKE_SERVER not in load_catalog()


def test_validation_accepts_it(repo: Path, inventory: str) -> None:
    for extra in (
        [f"server={FAKE_SERVER}"],
        ["server=gunicorn", f"async_server={FAKE_SERVER}", "caddy=true"],
    ):
        result = ansible_playbook(
            "site.yml", "-i", inventory, *(f"-e{item}" for item in extra), repo_root=repo
        )
        output = result.stdout + result.stderr
        # Past every check: the first play that changes hosts starts and fails only to reach it.
        assert "PLAY [Prepare every host]" in output, output[-3000:]


def test_validation_names_it_among_the_valid_servers(repo: Path, inventory: str) -> None:
    result = ansible_playbook("site.yml", "-i", inventory, "-eserver=nginx", repo_root=repo)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    refusal = rf"app_server_name must be one of: [^\n]*\b{FAKE_SERVER}\b"
    assert re.search(refusal, output), output[-3000:]
    assert "PLAY [Prepare every host]" not in output


def test_the_docs_list_it(repo: Path) -> None:
    readme = (repo / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith(f"| `{FAKE_SERVER}` |"))
    assert "3N workers" in row
    assert f"`{FAKE_SERVER}==1.0`" in row
    assert f"`{FAKE_SERVER}`" in next(
        line for line in readme.splitlines() if line.startswith("| `app_server_async_name` |")
    )


def test_the_test_matrix_has_it(repo: Path) -> None:
    molecule = (repo / "molecule" / "default" / "molecule.yml").read_text()
    assert f"- {{name: dsl-{FAKE_SERVER}, groups: [lab]}}" in molecule
    assert f"dsl-{FAKE_SERVER}: {{server: {FAKE_SERVER}}}" in molecule
    collected = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "tests/test_app_server_catalog.py",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert f"test_every_entry_is_complete[{FAKE_SERVER}]" in collected.stdout, collected.stdout


def test_the_benchmark_measures_it_by_default(repo: Path, inventory: str) -> None:
    # Rounds 0 stops the run at the check that prints the configs chosen by default.
    result = ansible_playbook(
        "playbooks/benchmark.yml", "-i", inventory, "-ebenchmark_rounds=0", repo_root=repo
    )
    output = result.stdout + result.stderr
    assert f'{{"server": "{FAKE_SERVER}"}}' in output, output[-3000:]
