"""benchreport: turn the benchmark's run files into results.json and a report.

Controller side (Python 3.11, matplotlib, jinja2). The scripts that run on the target host
are the benchmark role's files (roles/benchmark/files/) and use only the standard library.
See README.md and SCHEMA.md.

The API a caller such as a sweep script uses:

    result_set = load_results(Path("results/20250131T140509Z"))
    for row in aggregate(result_set.runs, result_set.thresholds):
        row.config.server, row.config.overrides, row.endpoint, row.rps_mean, row.ranked
"""

from benchreport.aggregate import Row, aggregate, aggregate_group, display_key, winner
from benchreport.config import Config, Knobs
from benchreport.header import SCHEMA_VERSION
from benchreport.jsonfields import InputError
from benchreport.schema import ResultSet, Run, Thresholds
from benchreport.store import combine, load_results, load_runs

__all__ = [
    "SCHEMA_VERSION",
    "Config",
    "InputError",
    "Knobs",
    "ResultSet",
    "Row",
    "Run",
    "Thresholds",
    "aggregate",
    "aggregate_group",
    "combine",
    "display_key",
    "load_results",
    "load_runs",
    "winner",
]
