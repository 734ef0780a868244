"""The django_app role offers the app's profiles and no others, with the app's default, and hands
the choice to the app through the env file the units and the management commands read."""

from __future__ import annotations

import ast
import importlib.util
import sys
from types import ModuleType
from typing import Any

from conftest import REPO_ROOT, ROLES_DIR, load_yaml

DJANGO_APP_ROLE = ROLES_DIR / "django_app"
SETTINGS = REPO_ROOT / "app" / "config" / "settings.py"


def load_app_profiles() -> ModuleType:
    """app/config/profiles.py by its path: plain data, no Django needed."""
    spec = importlib.util.spec_from_file_location(
        "app_profiles", REPO_ROOT / "app" / "config" / "profiles.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def settings_default() -> Any:
    """The default the app's settings give env_choice("DSL_APP_PROFILE", ...)."""
    for node in ast.walk(ast.parse(SETTINGS.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", "") == "env_choice"
            and ast.literal_eval(node.args[0]) == "DSL_APP_PROFILE"
        ):
            return ast.literal_eval(node.args[1])
    raise AssertionError("settings.py reads no DSL_APP_PROFILE")


def test_role_offers_the_apps_profiles_with_its_default() -> None:
    options = load_yaml(DJANGO_APP_ROLE / "meta" / "argument_specs.yml")["argument_specs"]["main"]
    profiles = list(load_app_profiles().APP_PROFILES)
    assert options["options"]["django_app_profile"]["choices"] == profiles
    default = load_yaml(DJANGO_APP_ROLE / "defaults" / "main.yml")["django_app_profile"]
    assert default == settings_default() == profiles[0] == "lean"


def test_env_file_carries_the_profile() -> None:
    # The env file's checksum is part of each server's revision (app_server), so a new profile
    # starts the servers anew, as any other change to the file does.
    environment = load_yaml(DJANGO_APP_ROLE / "vars" / "main.yml")["django_app_base_environment"]
    assert environment["DSL_APP_PROFILE"] == "{{ django_app_profile }}"
