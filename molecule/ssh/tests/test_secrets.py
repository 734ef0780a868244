"""Secrets on the SSH host: a dry run on the new host said they will be generated, a rotation
replaced both, and no secret shows in that rotation's -vvv --diff output."""

from __future__ import annotations

from testinfra.host import Host

import json
import os
import re
from pathlib import Path

import testinfra.utils.ansible_runner

from conftest import LAYOUT, role_file

testinfra_hosts = testinfra.utils.ansible_runner.AnsibleRunner(
    os.environ["MOLECULE_INVENTORY_FILE"]
).get_hosts("lab")

EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
# Where the roles keep the secrets (their defaults).
REDIS_PASSWORD_FILE = role_file("redis", "defaults", "main.yml")["redis_password_file"]
SECRET_KEY_FILE = role_file("django_app", "defaults", "main.yml")[
    "django_app_secret_key_file"
].replace("{{ layout_config_dir }}", LAYOUT["layout_config_dir"])
SECRET_FILES = [REDIS_PASSWORD_FILE, SECRET_KEY_FILE]


def _run_output(name: str) -> tuple[int, str]:
    log = EPHEMERAL / name
    return int((EPHEMERAL / f"{name}.rc").read_text()), log.read_text(errors="replace")


def _secrets(host: Host) -> list[str]:
    with host.sudo():
        return [host.file(path).content_string.strip() for path in SECRET_FILES]


def test_the_dry_run_on_the_new_host_said_the_secrets_will_be_generated() -> None:
    code, output = _run_output("check-new-host.log")
    assert code == 0, output[-3000:]
    for path in SECRET_FILES:
        assert f"msg: {path} will be generated" in output, path
    assert re.search(r"dsl-ssh\s*: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0", output)


def test_the_rotation_replaced_both_secrets(host: Host) -> None:
    code, output = _run_output("rotate.log")
    assert code == 0, output[-3000:]
    before = json.loads((EPHEMERAL / "secrets-before.json").read_text())
    with host.sudo():
        after = [host.file(path).sha256sum for path in SECRET_FILES]
    assert all(old != new for old, new in zip(before, after, strict=True)), (before, after)


# The templates that hold the secrets: in the rotation they change, under --diff.
SECRET_TEMPLATES = ["redis : Configure Redis", "django_app : Write the app's env file"]


def test_no_secret_shows_in_the_verbose_diff_output(host: Host) -> None:
    _, output = _run_output("rotate.log")
    # The output is the verbose kind (commands sent over SSH), and the files holding the new
    # secrets changed in it, so --diff would have shown them had it been allowed to.
    assert "SSH: EXEC" in output
    for task in SECRET_TEMPLATES:
        task_output = output.split(f"TASK [{task}]", 1)[1].split("TASK [", 1)[0]
        assert re.search(r"^changed: \[dsl-ssh\]", task_output, re.MULTILINE), task
    for secret in _secrets(host):
        assert len(secret) >= 32
        assert secret not in output


def test_the_secrets_are_private_to_root(host: Host) -> None:
    with host.sudo():
        for path in SECRET_FILES:
            secret = host.file(path)
            assert (secret.user, secret.group, secret.mode) == ("root", "root", 0o600), path
        # The app reads its env file (with both secrets) and cannot rewrite it.
        env_file = host.file(f"{LAYOUT['layout_config_dir']}/app.env")
        owner = (env_file.user, env_file.group, env_file.mode)
        assert owner == ("root", LAYOUT["layout_app_group"], 0o640)
