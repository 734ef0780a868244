#!/usr/bin/env python3
"""Summarise a Lynis report file (report.dat, `lynis audit system --report-file`).

The report is one `key=value` per line; lists repeat the key with `[]`, and a warning or a
suggestion is `TEST-ID|text|details|solution|`. The summary keeps what an audit is judged on:
the hardening index, the tests performed, and every warning and suggestion with its test ID.
Given the run's log too, it adds where the index loses its points: each test that was assigned
fewer hardening points than its maximum (the log's "Hardening: assigned ..." lines), so that
each point short of a target can be named by test.

    scripts/lynis_summary.py host.report.dat --log host.log --json host.json --markdown host.md

playbooks/audit.yml runs it on the controller for each audited host and prints its one line.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Lynis writes "-" for an empty field.
EMPTY = "-"
# The log's lines (after a timestamp) that name the running test and the points it is given.
TEST_LINE = re.compile(r"Performing test ID (?P<test_id>\S+) \((?P<description>.*)\)$")
POINTS_LINE = re.compile(
    r"Hardening: assigned (?:maximum number of hardening points for this item \((?P<max>\d+)\)"
    r"|partial number of hardening points \((?P<earned>\d+) of (?P<of>\d+)\))"
)


@dataclass(frozen=True)
class Finding:
    """A warning or a suggestion: the test that raised it and what it says."""

    test_id: str
    text: str
    details: str = ""
    solution: str = ""

    @classmethod
    def parse(cls, value: str) -> Finding:
        fields = [part.strip() for part in value.split("|")]
        fields += [""] * (4 - len(fields))
        test_id, text, details, solution = ("" if part == EMPTY else part for part in fields[:4])
        if not test_id:
            raise ValueError(f"a finding without a test ID: {value!r}")
        return cls(test_id, text, details, solution)


@dataclass
class TestPoints:
    """The hardening points one test was given, summed over its checks."""

    test_id: str
    description: str
    earned: int = 0
    maximum: int = 0

    @property
    def lost(self) -> int:
        return self.maximum - self.earned


def parse_points(log: str) -> list[TestPoints]:
    """Every test of a Lynis log that earned hardening points, in the order it ran."""
    tests: dict[str, TestPoints] = {}
    current = TestPoints("(outside a test)", "")
    for line in log.splitlines():
        if match := TEST_LINE.search(line):
            test_id = match["test_id"]
            current = tests.setdefault(test_id, TestPoints(test_id, match["description"]))
        elif match := POINTS_LINE.search(line):
            if match["max"] is not None:
                earned = maximum = int(match["max"])
            else:
                earned, maximum = int(match["earned"]), int(match["of"])
            if current.test_id not in tests:
                tests[current.test_id] = current
            current.earned += earned
            current.maximum += maximum
    return list(tests.values())


@dataclass
class LynisSummary:
    """What one `lynis audit system` run found on one host."""

    hostname: str
    lynis_version: str
    os: str
    started: str
    hardening_index: int
    tests_performed: int
    tests_skipped: int
    warnings: list[Finding] = field(default_factory=list)
    suggestions: list[Finding] = field(default_factory=list)
    # From the log, when given: the tests that earned points, and the sums.
    points: list[TestPoints] = field(default_factory=list)

    @property
    def points_earned(self) -> int:
        return sum(test.earned for test in self.points)

    @property
    def points_maximum(self) -> int:
        return sum(test.maximum for test in self.points)

    def points_short_of(self, index: int) -> int:
        """Points still to earn for a hardening index of at least `index` (Lynis rounds down)."""
        needed = -(-index * self.points_maximum // 100)
        return max(0, needed - self.points_earned)

    def line(self) -> str:
        points = f" ({self.points_earned} of {self.points_maximum} points)" if self.points else ""
        return (
            f"{self.hostname}: hardening index {self.hardening_index}{points}, "
            f"{self.tests_performed} tests performed, {len(self.warnings)} warnings, "
            f"{len(self.suggestions)} suggestions (Lynis {self.lynis_version})"
        )

    def to_json(self) -> str:
        data = asdict(self)
        if self.points:
            data["points_earned"] = self.points_earned
            data["points_maximum"] = self.points_maximum
            lost = self.lost_points()
            data["points_lost"] = [asdict(test) | {"lost": test.lost} for test in lost]
        return json.dumps(data, indent=2) + "\n"

    def lost_points(self) -> list[TestPoints]:
        """The tests that lost points, the largest loss first."""
        lost = [test for test in self.points if test.lost]
        return sorted(lost, key=lambda test: (-test.lost, test.test_id))

    def to_markdown(self) -> str:
        lines = [
            f"# Lynis audit of {self.hostname}",
            "",
            f"Lynis {self.lynis_version} on {self.os}, started {self.started}.",
            "",
            f"- Hardening index: **{self.hardening_index}**",
            f"- Tests performed: {self.tests_performed} (skipped: {self.tests_skipped})",
            f"- Warnings: {len(self.warnings)}",
            f"- Suggestions: {len(self.suggestions)}",
        ]
        if self.points:
            lines += [
                f"- Hardening points: {self.points_earned} of {self.points_maximum}; "
                f"{self.points_short_of(75)} more for an index of 75",
                "",
                "## Points lost, by test",
                "",
                "| Test | Description | Lost | Of |",
                "| --- | --- | ---: | ---: |",
            ]
            lines += [
                f"| {test.test_id} | {test.description} | {test.lost} | {test.maximum} |"
                for test in self.lost_points()
            ]
        for title, findings in (("Warnings", self.warnings), ("Suggestions", self.suggestions)):
            lines += ["", f"## {title}", ""]
            if not findings:
                lines.append("None.")
                continue
            lines += ["| Test | Finding | Details |", "| --- | --- | --- |"]
            for finding in findings:
                cells = (finding.test_id, finding.text, finding.details)
                lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        return "\n".join(lines) + "\n"


def parse_report(text: str, log: str = "") -> LynisSummary:
    """Read a report.dat; a report without a hardening index is refused (Lynis did not finish)."""
    values: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        if key.endswith("[]"):
            lists.setdefault(key[:-2], []).append(value)
        else:
            values[key] = value
    if "hardening_index" not in values:
        raise ValueError("no hardening_index in the report: did Lynis finish its audit?")

    def count(key: str) -> int:
        return len([test for test in values.get(key, "").split("|") if test])

    performed = values.get("lynis_tests_done", "")
    return LynisSummary(
        hostname=values.get("hostname", ""),
        lynis_version=values.get("lynis_version", ""),
        os=values.get("os_fullname", values.get("os_name", "")),
        started=values.get("report_datetime_start", ""),
        hardening_index=int(values["hardening_index"]),
        tests_performed=int(performed) if performed.isdigit() else count("tests_executed"),
        tests_skipped=count("tests_skipped"),
        warnings=[Finding.parse(value) for value in lists.get("warning", [])],
        suggestions=[Finding.parse(value) for value in lists.get("suggestion", [])],
        points=parse_points(log),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path, help="report.dat of a lynis audit system run")
    parser.add_argument("--log", type=Path, help="the run's log: adds the points lost by test")
    parser.add_argument("--json", type=Path, help="write the summary as JSON here")
    parser.add_argument("--markdown", type=Path, help="write the summary as Markdown here")
    args = parser.parse_args(argv)
    try:
        log = args.log.read_text(encoding="utf-8", errors="replace") if args.log else ""
        summary = parse_report(args.report.read_text(encoding="utf-8", errors="replace"), log)
    except (OSError, ValueError) as error:
        print(f"{args.report}: {error}", file=sys.stderr)
        return 1
    if args.json:
        args.json.write_text(summary.to_json(), encoding="utf-8")
    if args.markdown:
        args.markdown.write_text(summary.to_markdown(), encoding="utf-8")
    print(summary.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
