"""Command line: ``python -m benchreport {combine,render,compare} ...``.

Exit codes: 0 done; 2 missing or malformed input (the message names the file and the field).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchreport.aggregate import aggregate
from benchreport.schema import InputError, Thresholds
from benchreport.store import combine, load_results

EXIT_INPUT_ERROR = 2


def cmd_combine(args: argparse.Namespace) -> int:
    thresholds = Thresholds(
        min_answered_fraction=args.min_answered_fraction, max_error_rate=args.max_error_rate
    )
    target, result_set = combine(Path(args.results_dir), thresholds)
    servers = sorted({run.server for run in result_set.runs})
    rounds = sorted({run.round for run in result_set.runs})
    print(
        f"combined {len(result_set.runs)} runs ({len(servers)} servers: {', '.join(servers)}; "
        f"rounds {', '.join(map(str, rounds))}) into {target}"
    )
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    # Imported here so that `combine` works without matplotlib.
    from benchreport.charts import render_charts
    from benchreport.render_csv import render_report_csv, render_runs_csv
    from benchreport.render_html import render_html
    from benchreport.render_markdown import render_markdown
    from benchreport.tables import ranking_text

    results_dir = Path(args.results_dir)
    result_set = load_results(results_dir)
    output_dir = Path(args.output) if args.output else results_dir
    rows = aggregate(result_set.runs, result_set.thresholds)
    charts = render_charts(rows)
    charts_dir = output_dir / "charts"
    charts_dir.mkdir(parents=True, exist_ok=True)
    for name, png in charts:
        (charts_dir / name).write_bytes(png)
    chart_paths = [f"charts/{name}" for name, _ in charts]
    (output_dir / "report.md").write_text(
        render_markdown(result_set, rows, chart_paths), encoding="utf-8"
    )
    (output_dir / "report.csv").write_text(render_report_csv(rows), encoding="utf-8")
    (output_dir / "runs.csv").write_text(render_runs_csv(result_set.runs), encoding="utf-8")
    (output_dir / "report.html").write_text(render_html(result_set, rows, charts), encoding="utf-8")
    print(ranking_text(rows))
    print(f"\nreport: {output_dir / 'report.md'}, {output_dir / 'report.html'}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from benchreport.compare import render_compare

    set_a = load_results(Path(args.dir_a))
    set_b = load_results(Path(args.dir_b))
    output_dir = Path(args.output)
    print(render_compare(set_a, set_b, output_dir))
    print(f"\ncomparison: {output_dir / 'compare.md'}, {output_dir / 'compare.html'}")
    return 0


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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except InputError as error:
        print(f"benchreport: error: {error}", file=sys.stderr)
        return EXIT_INPUT_ERROR


if __name__ == "__main__":
    sys.exit(main())
