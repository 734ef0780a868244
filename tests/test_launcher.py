"""The units' launcher (roles/app_server/files/launch.py), run as systemd runs it: it changes
into the revision's release, sets the release's environment, replaces {release_dir} in the
arguments and, for a server that adopts its socket, binds the port with SO_REUSEPORT as fd 3."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import ROLES_DIR

LAUNCHER = ROLES_DIR / "app_server" / "files" / "launch.py"
REVISION = "0123456789ab"
# A stand-in server: reports what it was started with, as JSON on stdout.
FAKE_SERVER = """#!{python}
import json, os, socket, sys
prefixes = ("APP_", "LISTEN_", "DJANGO_")
report = {{"cwd": os.getcwd(), "argv": sys.argv[1:], "pid": os.getpid(),
          "env": {{k: v for k, v in os.environ.items() if k.startswith(prefixes)}}}}
try:
    sock = socket.socket(fileno=3)
    report["fd3"] = {{"address": sock.getsockname()[:2],
                     "reuseport": sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT),
                     "listening": sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)}}
    sock.detach()
except OSError:
    report["fd3"] = None
print(json.dumps(report))
"""


@pytest.fixture
def revisions(tmp_path: Path) -> Path:
    """revisions/<REVISION> linking to a release whose venv has the stand-in server."""
    release = tmp_path / "releases" / "fedcba987654"
    (release / ".venv" / "bin").mkdir(parents=True)
    server = release / ".venv" / "bin" / "fakeserver"
    server.write_text(FAKE_SERVER.format(python=sys.executable))
    server.chmod(0o755)
    (tmp_path / "revisions").mkdir()
    (tmp_path / "revisions" / REVISION).symlink_to(release)
    return tmp_path / "revisions"


def launch(revisions: Path, instance: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(LAUNCHER),
            "--revisions",
            str(revisions),
            "--instance",
            instance,
            *options,
            "--",
            "fakeserver",
            "--static",
            "{release_dir}/staticfiles",
            "--flag",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_runs_the_release_venvs_server_in_the_release(revisions: Path) -> None:
    done = launch(revisions, f"{REVISION}-2")
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    release = str((revisions / REVISION).resolve())
    assert report["cwd"] == release
    assert report["argv"] == ["--static", f"{release}/staticfiles", "--flag"]
    assert report["env"]["APP_RELEASE"] == "fedcba987654"
    assert report["env"]["APP_REVISION"] == REVISION
    assert report["env"]["APP_INSTANCE"] == "2"
    assert report["env"]["DJANGO_STATIC_ROOT"] == f"{release}/staticfiles"
    assert "LISTEN_FDS" not in report["env"]
    assert report["fd3"] is None


@pytest.mark.parametrize(("listen", "listening"), [((), 0), (("--listen", "128"), 1)])
def test_binds_the_port_with_reuseport_as_fd_3(
    revisions: Path, listen: tuple[str, ...], listening: int
) -> None:
    port = _free_port()
    # Another socket already on the port with SO_REUSEPORT, as the old revision's: both bind.
    with socket.socket() as old:
        old.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        old.bind(("127.0.0.1", port))
        old.listen(8)
        done = launch(revisions, f"{REVISION}-1", "--bind", f"127.0.0.1:{port}", *listen)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["fd3"] == {"address": ["127.0.0.1", port], "reuseport": 1, "listening": listening}
    # systemd's protocol: one fd, named, for this very process (exec keeps the PID).
    assert report["env"]["LISTEN_FDS"] == "1"
    assert report["env"]["LISTEN_FDNAMES"] == "app"
    assert report["env"]["LISTEN_PID"] == str(report["pid"])


@pytest.mark.parametrize("instance", ["1", "0123456789ab", "0123456789ab-0", "xyz456789abc-1", ""])
def test_refuses_an_instance_that_is_not_revision_dash_number(
    revisions: Path, instance: str
) -> None:
    done = launch(revisions, instance)
    assert done.returncode == 2
    assert f"instance {instance!r} is not REVISION-N" in done.stderr


def test_fails_when_the_revision_has_no_release(revisions: Path) -> None:
    done = launch(revisions, "aaaaaaaaaaaa-1")
    assert done.returncode != 0
    assert "aaaaaaaaaaaa" in done.stderr
