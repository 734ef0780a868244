"""The server catalog is the one source of truth: the rest must agree with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from app_server import app_server_unit_names
from conftest import APP_SERVER_ROLE

REQUIRED_FIELDS = {
    "interfaces",
    "packages",
    "executable",
    "args",
    "config_template",
    "config_file",
    "sd_notify",
    "stop_signal",
    "reload_signal",
    "serves_static",
    "socket_activated",
    "workers",
    "threads",
    "instances",
}


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def catalog() -> dict[str, dict[str, Any]]:
    return _yaml(APP_SERVER_ROLE / "vars" / "main.yml")["app_server_catalog"]


@pytest.fixture(scope="module")
def options() -> dict[str, Any]:
    specs = _yaml(APP_SERVER_ROLE / "meta" / "argument_specs.yml")
    return specs["argument_specs"]["main"]["options"]


def test_catalog_has_the_six_servers(catalog: dict[str, Any]) -> None:
    assert set(catalog) == {"uwsgi", "gunicorn", "granian", "uvicorn", "hypercorn", "daphne"}


@pytest.mark.parametrize(
    "server", ["uwsgi", "gunicorn", "granian", "uvicorn", "hypercorn", "daphne"]
)
def test_every_entry_is_complete(catalog: dict[str, Any], server: str) -> None:
    entry = catalog[server]
    assert set(entry) == REQUIRED_FIELDS
    assert set(entry["interfaces"]) <= {"wsgi", "asgi"}
    assert all("==" in package for package in entry["packages"]), "packages must be pinned"
    if entry["config_template"]:
        assert (APP_SERVER_ROLE / "templates" / "servers" / entry["config_template"]).is_file()
        assert entry["config_file"]
    assert entry["stop_signal"].startswith("SIG")


def test_argument_spec_choices_match_the_catalog(
    catalog: dict[str, Any], options: dict[str, Any]
) -> None:
    assert set(options["app_server_name"]["choices"]) == set(catalog)
    asgi_servers = {name for name, entry in catalog.items() if "asgi" in entry["interfaces"]}
    assert set(options["app_server_async_name"]["choices"]) - {""} == asgi_servers


def test_every_default_is_specified() -> None:
    for role in sorted((APP_SERVER_ROLE.parent).iterdir()):
        defaults = _yaml(role / "defaults" / "main.yml") or {}
        specs = _yaml(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
        assert set(defaults) == set(specs), role.name
        assert all(name.startswith(role.name + "_") for name in defaults), role.name


def test_unit_names_number_every_instance() -> None:
    assert app_server_unit_names({"name": "daphne", "instances": "3"}) == [
        "django-daphne@1.service",
        "django-daphne@2.service",
        "django-daphne@3.service",
    ]
    assert app_server_unit_names({"name": "uwsgi", "instances": 1}) == ["django-uwsgi@1.service"]


def test_unit_names_refuse_zero_instances() -> None:
    with pytest.raises(ValueError, match="at least one instance"):
        app_server_unit_names({"name": "daphne", "instances": 0})
