"""Shared paths for the controller-side tests."""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
APP_SERVER_ROLE = REPO_ROOT / "roles" / "app_server"

# The role's filter plugin is plain Python: import it as a module.
sys.path.insert(0, str(APP_SERVER_ROLE / "filter_plugins"))
