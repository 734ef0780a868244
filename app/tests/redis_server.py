"""A real redis-server on a free loopback port, for the tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field

import redis

STARTUP_TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def answers_ping(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


@dataclass
class RedisServer:
    """Starts on construction through `start()`; `kill()` makes it dead for real."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @classmethod
    def start(cls) -> RedisServer:
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError(
                "redis-server is not installed and no Redis answers at REDIS_URL; "
                "install it (apt-get install -y redis-server) or set REDIS_URL"
            )
        server = cls()
        server.process = subprocess.Popen(
            [
                executable,
                *("--port", str(server.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--loglevel", "warning"),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not answers_ping(server.url):
            if server.process.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError(f"redis-server on port {server.port} did not start")
            time.sleep(0.05)
        return server

    def connected_clients(self) -> int:
        """Clients connected now, not counting the one asking."""
        with redis.Redis.from_url(self.url, socket_timeout=1) as client:
            return int(client.info("clients")["connected_clients"]) - 1

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections but nothing answers."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def kill(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.resume()
        self.process.kill()
        self.process.wait(timeout=10)
