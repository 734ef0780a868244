"""Strict readers for JSON values: every error names the file and the dotted field.

E.g. ``runs/r1-app-ping.json: wrk.errors.read: expected an integer, got 'x'``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

JsonObject = dict[str, object]


class InputError(Exception):
    """A missing or malformed input file; the message names the file and the problem."""


@dataclass(frozen=True)
class Ctx:
    """Where a value comes from: a file and a dotted path inside it."""

    source: str
    path: str = ""

    def child(self, key: str | int) -> Ctx:
        step = f"[{key}]" if isinstance(key, int) else (f".{key}" if self.path else key)
        return Ctx(self.source, self.path + step)

    def error(self, problem: str) -> InputError:
        where = f"{self.source}: {self.path}" if self.path else self.source
        return InputError(f"{where}: {problem}")


# What each reader accepts; bool is excluded on purpose, JSON true is not the number 1.
def _is_object(value: object) -> bool:
    return isinstance(value, dict)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_string(value: object) -> bool:
    return isinstance(value, str)


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _is_scalar(value: object) -> bool:
    """A knob value: an integer or a string."""
    return _is_integer(value) or isinstance(value, str)


def _is_printable_or_null(value: object) -> bool:
    """A version or a fact: a string, or a number printed as one; null for "not found"."""
    return value is None or isinstance(value, str) or _is_number(value)


def _read(
    obj: JsonObject,
    key: str,
    ctx: Ctx,
    accepts: Callable[[object], bool],
    expected: str,
    *,
    required: bool,
) -> object:
    """The value at ``key`` if ``accepts`` it; None for an optional field that is absent or
    null; otherwise an InputError naming the field and what was expected."""
    if required and key not in obj:
        raise ctx.child(key).error("missing field")
    value = obj.get(key)
    if value is None and not required:
        return None
    if not accepts(value):
        alternative = "" if required else " or null"
        raise ctx.child(key).error(f"expected {expected}{alternative}, got {value!r}")
    return value


def req_obj(obj: JsonObject, key: str, ctx: Ctx) -> JsonObject:
    return cast(JsonObject, _read(obj, key, ctx, _is_object, "an object", required=True))


def opt_obj(obj: JsonObject, key: str, ctx: Ctx) -> JsonObject | None:
    return cast(JsonObject | None, _read(obj, key, ctx, _is_object, "an object", required=False))


def req_num(obj: JsonObject, key: str, ctx: Ctx) -> float:
    return float(cast(float, _read(obj, key, ctx, _is_number, "a number", required=True)))


def opt_num(obj: JsonObject, key: str, ctx: Ctx) -> float | None:
    value = cast(float | None, _read(obj, key, ctx, _is_number, "a number", required=False))
    return None if value is None else float(value)


def req_int(obj: JsonObject, key: str, ctx: Ctx) -> int:
    return cast(int, _read(obj, key, ctx, _is_integer, "an integer", required=True))


def opt_int(obj: JsonObject, key: str, ctx: Ctx) -> int | None:
    return cast(int | None, _read(obj, key, ctx, _is_integer, "an integer", required=False))


def req_str(obj: JsonObject, key: str, ctx: Ctx, allow_empty: bool = False) -> str:
    accepts = _is_string if allow_empty else _is_text
    return cast(str, _read(obj, key, ctx, accepts, "a non-empty string", required=True))


def opt_str(obj: JsonObject, key: str, ctx: Ctx) -> str | None:
    return cast(str | None, _read(obj, key, ctx, _is_string, "a string", required=False))


def opt_text(obj: JsonObject, key: str, ctx: Ctx) -> str | None:
    """A non-empty string or null: "" is refused where null already means "none"."""
    return cast(str | None, _read(obj, key, ctx, _is_text, "a non-empty string", required=False))


def _map(
    obj: JsonObject, key: str, ctx: Ctx, accepts: Callable[[object], bool], expected: str
) -> JsonObject:
    """An object whose every value ``accepts``; missing or null means empty."""
    value = opt_obj(obj, key, ctx) or {}
    for name in value:
        _read(value, name, ctx.child(key), accepts, expected, required=True)
    return value


def str_map(obj: JsonObject, key: str, ctx: Ctx) -> dict[str, str | None]:
    """An object of string (or null) values, e.g. package versions; missing means empty."""
    value = _map(obj, key, ctx, _is_printable_or_null, "a string")
    return {name: None if item is None else str(item) for name, item in value.items()}


def scalar_map(obj: JsonObject, key: str, ctx: Ctx) -> dict[str, int | str]:
    """An object of integer or string values, e.g. a server's knobs; missing means empty."""
    value = _map(obj, key, ctx, _is_scalar, "an integer or a string")
    return cast(dict[str, int | str], value)


def req_num_or_null(obj: JsonObject, key: str, ctx: Ctx) -> float | None:
    """A number that must be present but may be null ("not measured")."""
    if key not in obj:
        raise ctx.child(key).error("missing field")
    return opt_num(obj, key, ctx)


def req_list(obj: JsonObject, key: str, ctx: Ctx, *, non_empty: bool = False) -> list[object]:
    value = obj.get(key)
    if key not in obj:
        raise ctx.child(key).error("missing field")
    if not isinstance(value, list) or (non_empty and not value):
        expected = "a non-empty list" if non_empty else "a list"
        raise ctx.child(key).error(f"expected {expected}, got {value!r}")
    return value


def positive(value: float, ctx: Ctx) -> float:
    """``value`` when it is above 0; an error naming the field otherwise."""
    if value <= 0:
        raise ctx.error(f"expected a number > 0, got {value:g}")
    return value


def num_list(obj: JsonObject, key: str, ctx: Ctx) -> tuple[float, ...] | None:
    """An optional list of numbers (null or absent: None)."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise ctx.child(key).error(f"expected a list of numbers or null, got {value!r}")
    for index, item in enumerate(value):
        if not _is_number(item):
            raise ctx.child(key).child(index).error(f"expected a number, got {item!r}")
    return tuple(float(item) for item in value)


def opt_list(obj: JsonObject, key: str, ctx: Ctx) -> list[object]:
    """A list; absent or null means empty."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ctx.child(key).error(f"expected a list or null, got {value!r}")
    return value
