"""Jinja tests of the layout role, for every role that checks a path it writes to a host."""

from __future__ import annotations

import re
from typing import Any

# Letters, digits, '.', '_', '-' and '/': a path that lands as it is in unit files, command
# lines and configs, with nothing to quote.
PLAIN_PATH = re.compile(r"/[A-Za-z0-9._/-]*")


def layout_plain_path(value: object) -> bool:
    """An absolute path of plain characters and no '..' step."""
    text = str(value)
    return PLAIN_PATH.fullmatch(text) is not None and ".." not in text.split("/")


class TestModule:
    """Ansible entry point."""

    def tests(self) -> dict[str, Any]:
        return {"layout_plain_path": layout_plain_path}
