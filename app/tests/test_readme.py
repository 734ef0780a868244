"""The README's settings table states each variable's default as the code does: every literal
default given to the env_* readers in config/ is the README's, and no variable is missing."""

from __future__ import annotations

import ast
import re

from tests.conftest import APP_DIR

READERS = {"env_str", "env_bool", "env_int", "env_float", "env_list", "env_choice"}
# README rows: | `NAME` | default | meaning |
ROW = re.compile(r"^\| `(?P<name>[A-Z_]+)` \| (?P<default>[^|]+) \|", re.MULTILINE)


def readme_defaults() -> dict[str, str]:
    text = (APP_DIR / "README.md").read_text(encoding="utf-8")
    return {match["name"]: match["default"].strip() for match in ROW.finditer(text)}


def as_readme_cell(value: object) -> str:
    """A literal default the way the README writes it."""
    if value == "":
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return f"`{','.join(map(str, value))}`"
    return f"`{value}`"


def code_defaults() -> dict[str, object]:
    """Variable name -> its default, for every env_* call in config/ (None: not a literal)."""
    found: dict[str, object] = {}
    for path in sorted((APP_DIR / "config").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") in READERS):
                continue
            name = ast.literal_eval(node.args[0])
            default = node.args[1] if len(node.args) > 1 else node.keywords[0].value
            try:
                found[name] = ast.literal_eval(default)
            except ValueError:
                found[name] = None  # computed, e.g. a path under the app directory
    return found


def test_every_variable_the_code_reads_is_documented() -> None:
    documented = readme_defaults()
    missing = sorted(set(code_defaults()) - set(documented))
    assert not missing, f"README.md lacks rows for {missing}"


def test_every_literal_default_is_the_codes() -> None:
    documented = readme_defaults()
    for name, default in code_defaults().items():
        if default is None:
            continue
        expected = as_readme_cell(default)
        # The secret key's empty default means "required": the README says so.
        if name == "DJANGO_SECRET_KEY":
            expected = "none"
        assert documented[name] == expected, name
