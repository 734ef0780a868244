"""Settings for pytest: the app's own settings, with a secret key so they load with DEBUG off.

pytest-django imports settings before any conftest runs, so the defaults are set here.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-not-for-deployment")

from config.settings import *  # noqa: F403

# The tests look for this name in X-App-Server, whatever the calling shell has set.
APP_SERVER_NAME = "pytest"
# No release unless a test sets one (tests/test_release.py), whatever the shell has set.
APP_RELEASE = ""
