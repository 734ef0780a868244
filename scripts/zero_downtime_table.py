"""Turn the rows the zero-downtime tests record (molecule/operations.py, one JSON object per
line in DSL_ZERO_DOWNTIME_LOG) into the Markdown table of docs/zero-downtime.md.

    DSL_ZERO_DOWNTIME_LOG=/tmp/zd.jsonl molecule test -s switch
    python scripts/zero_downtime_table.py /tmp/zd.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

HEADER = (
    "| Operation | Server | Probe | Requests | Failed | Longest gap | Slowest answer | Duration |\n"
    "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"
)


def failed_cell(result: dict[str, Any]) -> str:
    kinds = {kind: count for kind, count in result["failed_by_kind"].items() if count}
    detail = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
    return f"{result['failed']} ({detail})" if detail else str(result["failed"])


def seconds_cell(seconds: float) -> str:
    """Whole seconds, or tenths below 10 s (a kill -9 recovery takes half a second)."""
    return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"


def rows(lines: list[str]) -> list[str]:
    table = []
    for line in lines:
        row = json.loads(line)
        for probe, result in sorted(row["probes"].items()):
            table.append(
                f"| {row['operation']} | {row['server']} | {probe} | {result['requests']:,} "
                f"| {failed_cell(result)} | {result['longest_gap_s']:.2f} s "
                f"| {result['max_latency_s']:.2f} s | {seconds_cell(row['seconds'])} |"
            )
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+", type=Path, help="JSON-lines files the tests wrote")
    args = parser.parse_args()
    lines = [line for log in args.logs for line in log.read_text().splitlines() if line.strip()]
    print("\n".join([HEADER, *rows(lines)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
