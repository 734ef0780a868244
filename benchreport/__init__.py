"""benchreport: turn the benchmark's run files into results.json and a report.

Controller side (Python 3.11, matplotlib). The scripts that run on the target host live in
``benchreport/target/`` and use only the standard library. See README.md and SCHEMA.md.
"""

from benchreport.schema import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION"]
