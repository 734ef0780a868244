"""scripts/zero_downtime_table.py: the rows the zero-downtime tests record, as the docs' table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "zero_downtime_table.py"


def _probe(requests: int, refused: int) -> dict[str, object]:
    return {
        "requests": requests,
        "failed": refused,
        "failed_by_kind": {"refused": refused, "reset": 0, "timeout": 0},
        "longest_gap_s": 0.123,
        "max_latency_s": 0.456,
    }


def test_one_line_per_probe_with_failures_by_kind(tmp_path: Path) -> None:
    log = tmp_path / "zd.jsonl"
    row = {
        "operation": "kill -9",
        "server": "uwsgi",
        "seconds": 1.6,
        "probes": {"direct": _probe(1200, 7), "caddy": _probe(1300, 0)},
    }
    log.write_text(json.dumps(row) + "\n")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(log)], capture_output=True, text=True, check=True
    )
    lines = done.stdout.splitlines()
    assert lines[0].startswith("| Operation | Server | Probe |")
    assert lines[2:] == [
        "| kill -9 | uwsgi | caddy | 1,300 | 0 | 0.12 s | 0.46 s | 1.6 s |",
        "| kill -9 | uwsgi | direct | 1,200 | 7 (7 refused) | 0.12 s | 0.46 s | 1.6 s |",
    ]
