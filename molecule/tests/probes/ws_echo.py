#!/usr/bin/env python3
"""Minimal WebSocket client (stdlib only): connect, send one text message, print the echo.

Runs on a test host with Debian's python3, where no WebSocket library is installed. Prints one
JSON object: {"status": <HTTP status of the upgrade>, "headers": {...}, "echo": "<text>"}.
Usage: ws_echo.py ws://127.0.0.1:8000/ws/echo "message"   (ws:// or wss:// with --insecure)
"""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import struct
import sys
from urllib.parse import urlsplit

TIMEOUT_S = 10.0


def _connect(url: str, insecure: bool) -> tuple[socket.socket, str, str]:
    parts = urlsplit(url)
    secure = parts.scheme == "wss"
    port = parts.port or (443 if secure else 80)
    raw = socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=TIMEOUT_S)
    if not secure:
        return raw, parts.netloc, parts.path or "/"
    context = ssl.create_default_context()
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    return context.wrap_socket(raw, server_hostname=parts.hostname), parts.netloc, parts.path


def _read_until(sock: socket.socket, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"connection closed before {marker!r}: {data!r}")
        data += chunk
    return data


def _recv_exact(sock: socket.socket, size: int, buffered: bytearray) -> bytes:
    while len(buffered) < size:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("connection closed inside a frame")
        buffered.extend(chunk)
    taken = bytes(buffered[:size])
    del buffered[:size]
    return taken


def _send_text(sock: socket.socket, text: str) -> None:
    payload = text.encode()
    mask = os.urandom(4)
    header = bytes([0x81])
    if len(payload) < 126:
        header += bytes([0x80 | len(payload)])
    else:
        header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    sock.sendall(header + mask + masked)


def _recv_text(sock: socket.socket, buffered: bytearray) -> str:
    first, second = _recv_exact(sock, 2, buffered)
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", _recv_exact(sock, 2, buffered))
    elif length == 127:
        (length,) = struct.unpack("!Q", _recv_exact(sock, 8, buffered))
    payload = _recv_exact(sock, length, buffered)
    if first & 0x0F != 0x1:
        raise ConnectionError(f"expected a text frame, got opcode {first & 0x0F}")
    return payload.decode()


def main() -> int:
    args = [arg for arg in sys.argv[1:] if arg != "--insecure"]
    url, message = args[0], args[1]
    sock, netloc, path = _connect(url, insecure="--insecure" in sys.argv)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    sock.sendall(request.encode())
    response = _read_until(sock, b"\r\n\r\n")
    head, _, rest = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines[1:])
    }
    echo = None
    if status == 101:
        _send_text(sock, message)
        echo = _recv_text(sock, bytearray(rest))
    sock.close()
    print(json.dumps({"status": status, "headers": headers, "echo": echo}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
