"""Print the failed and errored tests of pytest JUnit XML reports, one line each.

    python scripts/test_summary.py .build/junit-*.xml

`make test-molecule` prints this after the scenarios: a scenario's test output is followed by
its destroy step's, so a failure would otherwise sit far above the end of a CI log.
"""

from __future__ import annotations

import sys
from pathlib import Path
from xml.etree import ElementTree

# How much of a failure's message each line keeps.
MESSAGE_CHARS = 300


def failures(report: Path) -> list[str]:
    """'scenario: test: message' for every failed or errored test case of one report."""
    scenario = report.stem.removeprefix("junit-")
    lines = []
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        for outcome in ("failure", "error"):
            found = case.find(outcome)
            if found is not None:
                message = " ".join((found.get("message") or found.text or "").split())
                name = f"{case.get('classname', '')}::{case.get('name', '')}"
                lines.append(f"{scenario}: {outcome} {name}: {message[:MESSAGE_CHARS]}")
    return lines


def main(paths: list[str]) -> int:
    lines = [line for path in paths if Path(path).is_file() for line in failures(Path(path))]
    for line in lines:
        print(line)
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
