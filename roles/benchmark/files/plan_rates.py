#!/usr/bin/env python3
"""Choose the offered rates of one config's fixed-rate runs on one endpoint, from the closed-loop
run files already written on this host (runs/*.json, benchreport/SCHEMA.md).

Stdlib only: it runs where wrk ran (the target or the load host), with Debian's python3.

Every config gets the same absolute *common* rates, fractions of the best config's closed-loop
maximum on the endpoint (the median over its rounds), so servers are compared at one offered
load; and *knee* rates, fractions of its own maximum, so its capacity at the SLO is found even
when it is far below the best. A common rate above 1.1 x the config's own maximum is left out:
a closed loop of 200 connections is the most it answered, so it cannot hold more when offered
open-loop, and the run would only cost time. Rates within 5 % of each other are run once.

Prints a JSON list of "RATE:REASON" strings, ascending, for run_rates.py's --point options.
Exit codes: 0 printed; 2 bad arguments or no closed-loop run of this config on this endpoint.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import sys
from typing import Any

# A common rate is planned only up to this multiple of the config's own closed-loop maximum.
OWN_MAX_HEADROOM = 1.1
# Rates closer than this (relative) are one point.
MERGE_WITHIN = 0.05


class PlanError(Exception):
    pass


def number_list(text: str, low: float, high: float, what: str) -> list[float]:
    """Comma-separated numbers in (low, high]; empty for none. The message names the value."""
    values = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            value = float(item)
        except ValueError:
            value = low
        if not low < value <= high:
            raise argparse.ArgumentTypeError(f"{item!r} is not {what}")
        values.append(value)
    return values


def fractions(text: str) -> list[float]:
    """argparse type: fractions in (0, 2], e.g. 0.25,0.5."""
    return number_list(text, 0, 2, "a fraction in (0, 2]")


def rates(text: str) -> list[float]:
    """argparse type: absolute rates (req/s) above 0, e.g. 500,1000."""
    return number_list(text, 0, float("inf"), "a rate above 0 req/s")


def identity(labels: dict[str, Any]) -> str:
    """A config's identity (SCHEMA.md): server, interface, proxy, overrides, database."""
    return json.dumps(
        [
            labels["server"],
            labels["interface"],
            labels.get("proxy"),
            labels.get("overrides") or {},
            labels.get("database"),
        ],
        sort_keys=True,
    )


def closed_loop_maxima(runs_dir: str, endpoint: str, before_round: int) -> dict[str, float]:
    """Median closed-loop req/s per config identity on ``endpoint`` (rounds < before_round when
    it is above 0). Runs that answered with errors still count: wrk's rate is what it got."""
    per_config: dict[str, list[float]] = {}
    for path in sorted(glob.glob(os.path.join(runs_dir, "*.json"))):
        with open(path, encoding="utf-8") as handle:
            run = json.load(handle)
        labels = run.get("labels", {})
        if run.get("kind") != "run" or labels.get("endpoint") != endpoint:
            continue
        if before_round and labels.get("round", 0) >= before_round:
            continue
        rps = run.get("wrk", {}).get("rps")
        if rps:
            per_config.setdefault(identity(labels), []).append(float(rps))
    return {config: statistics.median(values) for config, values in per_config.items()}


def plan(
    maxima: dict[str, float],
    own_max: float,
    common: list[float],
    knee: list[float],
    given: list[float],
) -> list[tuple[float, str]]:
    best = max([*maxima.values(), own_max])
    points = [(round(rate, 1), "given") for rate in given]
    points += [
        (round(best * fraction, 1), "common")
        for fraction in common
        if best * fraction <= own_max * OWN_MAX_HEADROOM
    ]
    points += [(round(own_max * fraction, 1), "knee") for fraction in knee]
    # Keep the first of near-equal rates in this order: given, common, knee.
    kept: list[tuple[float, str]] = []
    for rate, reason in points:
        if all(abs(rate - other) > MERGE_WITHIN * max(rate, other) for other, _ in kept):
            kept.append((rate, reason))
    return sorted(kept)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", required=True, help="folder of closed-loop run files")
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--labels", required=True, help="this config's labels (JSON object)")
    parser.add_argument(
        "--before-round", type=int, default=0, help="the best from rounds before this one (0: all)"
    )
    parser.add_argument("--common", type=fractions, default=[], help="e.g. 0.25,0.5,0.75,0.9")
    parser.add_argument("--knee", type=fractions, default=[], help="e.g. 0.5,0.75,0.9")
    parser.add_argument("--rates", type=rates, default=[], help="absolute req/s, e.g. 500,1000")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        labels = json.loads(args.labels)
        own = closed_loop_maxima(args.runs, args.endpoint, 0).get(identity(labels))
        if own is None:
            raise PlanError(f"no closed-loop run of {labels} on {args.endpoint} in {args.runs}")
        maxima = closed_loop_maxima(args.runs, args.endpoint, args.before_round)
    except (PlanError, KeyError, json.JSONDecodeError) as error:
        print(f"plan_rates: {error}", file=sys.stderr)
        return 2
    points = plan(maxima, own, args.common, args.knee, args.rates)
    print(json.dumps([f"{rate:g}:{reason}" for rate, reason in points]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
