"""A server configuration: what a run measured, and what its rounds are pooled over.

A config's identity is (server, interface, proxy, overrides, database): the knobs the caller
chose, and the app's database when a sweep compares databases.
``knobs``, the settings the server resolved them to, describe it but do not identify it, so
that two rounds of the same choice pool even where a host's resolved settings differ.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

KnobValue = int | str
INTERFACES = ("wsgi", "asgi")


class Knobs(Mapping[str, KnobValue]):
    """An immutable, hashable mapping of knob names to values, in the order given (frozen
    Config fields must hash; a dict does not)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, KnobValue] | None = None) -> None:
        self._items = dict(items or {})

    def __getitem__(self, name: str) -> KnobValue:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and self._items == dict(other.items())

    def __repr__(self) -> str:
        return f"Knobs({self._items!r})"

    def assignments(self, ordered: bool = False) -> list[str]:
        """``name=value`` for every knob, in the given order or sorted by name."""
        items = sorted(self._items.items()) if ordered else self._items.items()
        return [f"{name}={value}" for name, value in items]


@dataclass(frozen=True)
class Config:
    """One server configuration of a benchmark; see SCHEMA.md, run file ``labels``."""

    server: str  # the server's catalog name (study.py names the ones the study measured)
    interface: str  # wsgi or asgi
    proxy: str | None = None  # e.g. caddy when the load went through it; None: straight
    overrides: Knobs = field(default_factory=Knobs)  # set by the caller; empty: the catalog's
    knobs: Knobs = field(default_factory=Knobs, compare=False)  # as the server ran
    database: str | None = None  # sqlite or postgres in a sweep that compares them; None: unstated

    @property
    def name(self) -> str:
        """``<server>``, then ``-<proxy>`` with a proxy, then `` (k=v, ...)`` of the sorted
        overrides when there are any; e.g. ``app-caddy (threads=1, workers=1)``."""
        name = f"{self.server}-{self.proxy}" if self.proxy else self.server
        if self.overrides:
            name += f" ({', '.join(self.overrides.assignments(ordered=True))})"
        if self.database:
            name += f" on {self.database}"
        return name

    @property
    def without_database(self) -> Config:
        """The same config whatever the database: what a database comparison pairs by."""
        return Config(self.server, self.interface, self.proxy, self.overrides, self.knobs)

    @property
    def description(self) -> str:
        """The resolved settings in one line, e.g. ``wsgi workers=2 threads=2 via=caddy``."""
        via = [f"via={self.proxy}"] if self.proxy else []
        return " ".join([self.interface, *self.knobs.assignments(), *via])

    def to_json(self) -> dict[str, object]:
        return {
            "server": self.server,
            "interface": self.interface,
            "proxy": self.proxy,
            "overrides": dict(self.overrides),
            "knobs": dict(self.knobs),
            **({"database": self.database} if self.database else {}),
        }
