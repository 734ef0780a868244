"""Command line: ``python -m benchreport {combine,render,compare,probe,ceiling} ...``.

Exit codes: 0 done; 2 missing or malformed input (the message names the file and the field).
``probe`` is the stdlib-only load probe (probe.py) and ``ceiling`` the in-process measure of the
app (ceiling.py, run on the target in the app's Python); both parse their own options.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from benchreport import probe
from benchreport.aggregate import display_key
from benchreport.document import Document
from benchreport.jsonfields import InputError
from benchreport.schema import Thresholds
from benchreport.store import combine, load_results

EXIT_INPUT_ERROR = 2


def cmd_combine(args: argparse.Namespace) -> int:
    thresholds = Thresholds(
        min_answered_fraction=args.min_answered_fraction, max_error_rate=args.max_error_rate
    )
    target, result_set = combine(Path(args.results_dir), thresholds)
    configs = sorted({run.config for run in result_set.runs}, key=display_key)
    rounds = sorted({run.round for run in result_set.runs})
    print(
        f"combined {len(result_set.runs)} runs ({len(configs)} configs: "
        f"{', '.join(config.name for config in configs)}; "
        f"rounds {', '.join(map(str, rounds))}) into {target}"
    )
    return 0


def publish(document: Document, output_dir: Path) -> int:
    """Write the document's files and print its console part and where the files went."""
    # Imported here so that `combine` works without matplotlib and jinja2.
    from benchreport.output import write_document
    from benchreport.render_text import render_text

    write_document(document, output_dir)
    print(render_text(document))
    stem = output_dir / document.file_stem
    print(f"\n{document.file_stem}: {stem}.md, {stem}.html")
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from benchreport.report import build_report
    from benchreport.trend import earlier_sets

    results_dir = Path(args.results_dir)
    result_set = load_results(results_dir)
    earlier, notes = earlier_sets(result_set)
    document = build_report(result_set, earlier, notes)
    return publish(document, Path(args.output) if args.output else results_dir)


def cmd_compare(args: argparse.Namespace) -> int:
    from benchreport.comparison import build_comparison

    document = build_comparison(load_results(Path(args.dir_a)), load_results(Path(args.dir_b)))
    return publish(document, Path(args.output))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchreport", description="Benchmark results and reports."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    combine_parser = commands.add_parser(
        "combine", help="RESULTS_DIR/runs/*.json + host.json + versions.json -> results.json"
    )
    combine_parser.add_argument("results_dir", metavar="RESULTS_DIR")
    combine_parser.add_argument(
        "--min-answered-fraction",
        type=float,
        default=Thresholds.min_answered_fraction,
        help="a config whose probe saw fewer answered connections is flagged starved (1.0)",
    )
    combine_parser.add_argument(
        "--max-error-rate",
        type=float,
        default=Thresholds.max_error_rate,
        help="a config with more failed attempts in a round is flagged errors (0.01)",
    )
    combine_parser.set_defaults(handler=cmd_combine)

    render_parser = commands.add_parser(
        "render", help="results.json -> report.md, report.csv, runs.csv, report.html, charts/"
    )
    render_parser.add_argument("results_dir", metavar="RESULTS_DIR")
    render_parser.add_argument("--output", help="directory for the report (RESULTS_DIR)")
    render_parser.set_defaults(handler=cmd_render)

    compare_parser = commands.add_parser("compare", help="two result sets side by side")
    compare_parser.add_argument("dir_a", metavar="DIR_A", help="results dir or results.json (A)")
    compare_parser.add_argument("dir_b", metavar="DIR_B", help="results dir or results.json (B)")
    compare_parser.add_argument("--output", required=True, help="directory for compare.*")
    compare_parser.set_defaults(handler=cmd_compare)

    # Listed for --help only: main() hands everything after "probe" to probe.main.
    commands.add_parser(
        "probe",
        add_help=False,
        help="load beside an operation, counting every failed request (probe --help)",
    )
    commands.add_parser(
        "ceiling",
        add_help=False,
        help="the app's CPU cost per request in-process, on the target (ceiling --help)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["probe"]:
        # probe.py is also run alone as a script on the target: it owns its options.
        return probe.main(arguments[1:], prog="python -m benchreport probe")
    if arguments[:1] == ["ceiling"]:
        # Runs in the app's Python on the target, where only Django and the app are installed.
        from benchreport import ceiling

        return ceiling.main(arguments[1:])
    args = build_parser().parse_args(arguments)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except InputError as error:
        print(f"benchreport: error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR


if __name__ == "__main__":
    sys.exit(main())
