"""Start the test HTTP servers (httpserver.py) as child processes on 127.0.0.1."""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

SUPPORT_DIR = Path(__file__).resolve().parent
REPO_ROOT = SUPPORT_DIR.parents[2]
# The scripts the benchmark role copies to the target host.
TARGET_DIR = REPO_ROOT / "roles" / "benchmark" / "files"
# The target scripts must run on Debian 12's own python3 (stdlib only): use it when present.
DEBIAN_PYTHON = Path("/usr/bin/python3")
TARGET_PYTHON = str(DEBIAN_PYTHON) if DEBIAN_PYTHON.exists() else sys.executable
START_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RunningServer:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def pid(self) -> int:
        return self.process.pid

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def wait_for_port_line(process: subprocess.Popen[bytes], timeout_s: float) -> int:
    """The server prints 'PORT <n>' once it listens: wait on that line, not on a sleep."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    buffer = b""
    while b"\n" not in buffer:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or process.poll() is not None:
            raise RuntimeError(f"test server did not start (exit code {process.poll()})")
        ready, _, _ = select.select([process.stdout], [], [], remaining)
        if ready:
            chunk = os.read(process.stdout.fileno(), 256)
            if not chunk:
                raise RuntimeError("test server closed its stdout before listening")
            buffer += chunk
    label, port_text = buffer.split(b"\n", 1)[0].decode().split()
    if label != "PORT":
        raise RuntimeError(f"unexpected first line from the test server: {buffer!r}")
    return int(port_text)


def wait_until_accepting(port: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@contextlib.contextmanager
def running_server(mode: str = "fair", *extra_args: str) -> Iterator[RunningServer]:
    process = subprocess.Popen(
        [TARGET_PYTHON, str(SUPPORT_DIR / "httpserver.py"), "--mode", mode, *extra_args],
        stdout=subprocess.PIPE,
    )
    try:
        port = wait_for_port_line(process, START_TIMEOUT_S)
        wait_until_accepting(port, START_TIMEOUT_S)
        yield RunningServer(process, port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def run_target_script(
    script: str, *args: str, timeout_s: float = 60.0
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TARGET_PYTHON, str(TARGET_DIR / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def sibling_imports(path: Path) -> list[str]:
    """The modules a target script imports that are other scripts of TARGET_DIR."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    return [name for name in names if (TARGET_DIR / f"{name}.py").exists()]


def load_target_module(name: str) -> ModuleType:
    """A target script (e.g. fairness_probe) loaded from its file as a module, for unit tests.

    Registered in sys.modules under its bare name, as running it as a script would make it
    importable, after the sibling scripts it imports (run_load imports fairness_probe)."""
    if name in sys.modules:
        return sys.modules[name]
    path = TARGET_DIR / f"{name}.py"
    for sibling in sibling_imports(path):
        load_target_module(sibling)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
