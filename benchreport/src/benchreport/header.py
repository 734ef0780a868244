"""What every versioned file of a results folder starts with: its schema version and kind,
and the labels that say which config it measured (run files and rates files share them)."""

from __future__ import annotations

from benchreport.config import INTERFACES, Config, Knobs
from benchreport.jsonfields import Ctx, JsonObject, opt_text, req_int, req_obj, req_str, scalar_map

# Version 2: structured labels (server, interface, proxy, overrides, knobs) in place of
# version 1's one server string.
SCHEMA_VERSION = 2


def top_level(document: object, source: str, kind: str | None = None) -> tuple[JsonObject, Ctx]:
    """A file's top-level object and where it comes from; for the documents that carry them
    (``kind`` given), their schema version and kind are checked too."""
    ctx = Ctx(source)
    if not isinstance(document, dict):
        raise ctx.error(f"expected a JSON object, got {type(document).__name__}")
    if kind is None:
        return document, ctx
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ctx.child("schema_version").error(
            f"unsupported schema version {version!r}, this tool reads version {SCHEMA_VERSION} "
            "(SCHEMA.md); re-run the benchmark with the current run_load.py"
        )
    if document.get("kind") != kind:
        raise ctx.child("kind").error(f"expected {kind!r}, got {document.get('kind')!r}")
    return document, ctx


def parse_config(labels: JsonObject, ctx: Ctx) -> Config:
    """A run's config from its labels (server, interface, proxy, overrides, knobs)."""
    interface = req_str(labels, "interface", ctx)
    if interface not in INTERFACES:
        raise ctx.child("interface").error(
            f"expected one of {', '.join(INTERFACES)}, got {interface!r}"
        )
    return Config(
        server=req_str(labels, "server", ctx),
        interface=interface,
        proxy=opt_text(labels, "proxy", ctx),
        overrides=Knobs(scalar_map(labels, "overrides", ctx)),
        knobs=Knobs(scalar_map(labels, "knobs", ctx)),
        database=parse_database(labels, ctx),
    )


# The app's databases a sweep may compare (the topology role's topology_database).
DATABASES = ("sqlite", "postgres")


def parse_database(labels: JsonObject, ctx: Ctx) -> str | None:
    database = opt_text(labels, "database", ctx)
    if database is not None and database not in DATABASES:
        raise ctx.child("database").error(
            f"expected one of {', '.join(DATABASES)}, got {database!r}"
        )
    return database


def labels_and_round(document: JsonObject, ctx: Ctx) -> tuple[JsonObject, Ctx, int]:
    """A file's labels, where they are, and the round they name (a number from 1)."""
    labels_ctx = ctx.child("labels")
    labels = req_obj(document, "labels", ctx)
    round_number = req_int(labels, "round", labels_ctx)
    if round_number < 1:
        raise labels_ctx.child("round").error(f"expected a round number >= 1, got {round_number}")
    return labels, labels_ctx, round_number
