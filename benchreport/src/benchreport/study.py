"""The published study's numbers: a cited constant shown as a reference column, never our data.

The study ran ``wrk -t4 -c200 -d30s`` by hand against each server on a 2-core / 2 GB VM, with
the load generator on the same two cores, one worker per server, sync Django under the ASGI
servers, and memory taken as the sum of the processes' RSS (which counts forked workers' shared
pages once per worker). Read errors and timeouts were reported but not explained.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StudyFigure:
    label: str  # the server as the study named it
    rps: float  # requests per second
    memory_mb: float  # summed RSS, MB


STUDY_CAPTION = (
    "Study = the published study's own numbers (wrk -t4 -c200 -d30s by hand on a 2-core/2 GB "
    "VM, client on the same cores, one worker per server, memory = summed RSS in MB). "
    "Shown for reference only; they are not results of this run."
)

# Keyed by our servers' catalog names, in the study's ranking order, which is also the order
# servers are shown in. The one place in this package that names servers. "granian" was
# measured by the study with its ASGI interface.
STUDY_FIGURES: dict[str, StudyFigure] = {
    "uwsgi": StudyFigure("uWSGI", 1206, 58),
    "gunicorn": StudyFigure("Gunicorn", 740, 430),
    "granian": StudyFigure("Granian (ASGI)", 220, 170),
    "daphne": StudyFigure("Daphne", 190, 175),
    "uvicorn": StudyFigure("Uvicorn", 181, 500),
    "hypercorn": StudyFigure("Hypercorn", 168, 300),
}


def study_figure(server: str) -> StudyFigure | None:
    """The study's figure for a server's catalog name (``Config.server``), if it measured it."""
    return STUDY_FIGURES.get(server)


def server_display_key(server: str) -> tuple[int, str]:
    """Sort key for showing servers: the study's order first, then others by name."""
    order = list(STUDY_FIGURES)
    return (order.index(server) if server in STUDY_FIGURES else len(order), server)
