"""The server catalog is the one source of truth: the rest must agree with it, and the role's
filter resolves any entry into the deployment it publishes."""

from __future__ import annotations

import re
from typing import Any

import pytest

from conftest import (
    APP_SERVER_ROLE,
    CATALOG,
    REPO_ROOT,
    ROLES_DIR,
    load_filter_plugin,
    load_plugin,
    load_yaml,
)

FILTERS = load_filter_plugin()
LAYOUT_TESTS = load_plugin("layout", "test_plugins")
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
    "listen_socket",
    "main_exits_late",
    "binds_host_names",
    "scales",
    "per_vcpu",
    "threads",
    "knobs",
    "sweep",
}


@pytest.mark.parametrize("server", list(CATALOG))
def test_every_entry_is_complete(server: str) -> None:
    entry = CATALOG[server]
    assert set(entry) == REQUIRED_FIELDS
    assert entry["interfaces"]
    assert set(entry["interfaces"]) <= {"wsgi", "asgi"}
    assert all("==" in package for package in entry["packages"]), "packages must be pinned"
    if entry["config_template"]:
        assert (APP_SERVER_ROLE / "templates" / "servers" / entry["config_template"]).is_file()
        assert entry["config_file"]
    assert entry["stop_signal"].startswith("SIG")
    assert entry["scales"] in {"workers", "instances"}
    assert int(entry["per_vcpu"]) >= 1
    assert int(entry["threads"]) >= 1


@pytest.mark.parametrize("server", list(CATALOG))
def test_sweep_grid_overrides_only_known_knobs(server: str) -> None:
    knobs = FILTERS.app_server_public(CATALOG)[server]["knobs"]
    for config in CATALOG[server]["sweep"]:
        assert config, "an empty override is the tuned config, which the sweep measures anyway"
        assert set(config) <= set(knobs), config


def test_every_default_is_specified() -> None:
    for role in sorted(ROLES_DIR.iterdir()):
        defaults = load_yaml(role / "defaults" / "main.yml") or {}
        specs = load_yaml(role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
        assert set(defaults) == set(specs), role.name
        assert all(name.startswith(role.name + "_") for name in defaults), role.name


def test_the_apps_server_pins_are_the_catalogs() -> None:
    """The app's own tests run some servers; they must test the versions the roles deploy."""
    pinned = dict(
        line.split("==", 1)
        for line in (REPO_ROOT / "app" / "requirements-dev.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    catalog_pins = dict(
        re.sub(r"\[.*\]", "", package).split("==", 1)
        for entry in CATALOG.values()
        for package in entry["packages"]
    )
    shared = set(pinned) & set(catalog_pins)
    assert shared, "the app tests no server of the catalog"
    assert {name: pinned[name] for name in shared} == {name: catalog_pins[name] for name in shared}


def _resolve(
    name: str, overrides: dict[str, Any] | None = None, vcpus: int = 2, bind: str = "127.0.0.1"
) -> dict[str, Any]:
    requests = [{"name": name, "role": "main", "port": 8000, "interface": ""}]
    (deployment,) = FILTERS.app_server_deployments(
        requests,
        CATALOG,
        vcpus,
        overrides or {},
        bind_address=bind,
        settings={"backlog": 1024},
        timeouts={"ready": 60},
    )
    return deployment


@pytest.mark.parametrize("server", list(CATALOG))
def test_tuned_deployment_scales_with_the_vcpus(server: str) -> None:
    entry = CATALOG[server]
    small, large = _resolve(server, vcpus=1), _resolve(server, vcpus=4)
    scaled = entry["scales"]
    assert large["knobs"][scaled] == 4 * small["knobs"][scaled] == 4 * entry["per_vcpu"]
    assert large["overrides"] == {}
    assert large["interface"] == entry["interfaces"][0]
    assert large["listen_socket"] == entry["listen_socket"]
    assert large["health_url"] == "http://127.0.0.1:8000/api/health"


def test_overrides_apply_and_are_recorded() -> None:
    server = next(name for name, entry in CATALOG.items() if len(entry["interfaces"]) > 1)
    interface = CATALOG[server]["interfaces"][1]
    deployment = _resolve(server, {"workers": 3, "interface": interface, "not_a_knob": 1})
    assert deployment["knobs"]["workers"] == 3
    assert deployment["interface"] == interface
    assert deployment["overrides"] == {"interface": interface, "workers": 3}


def _template_results(deployment: dict[str, Any], checksum: str) -> dict[str, Any]:
    """What a looped template task registers for one deployment."""
    return {"results": [{"app_server_deployment": deployment, "checksum": checksum}]}


def test_units_name_the_revision_and_number_every_instance() -> None:
    deployment = _resolve(next(iter(CATALOG)), {"instances": 3})
    (planned,) = FILTERS.app_server_with_units([deployment], "0123456789ab", ["launcher", "env"])
    name, revision = planned["name"], planned["revision"]
    assert re.fullmatch("[0-9a-f]{12}", revision)
    assert planned["release"] == "0123456789ab"
    assert planned["units"] == [f"django-{name}@{revision}-{n}.service" for n in (1, 2, 3)]
    unit_pattern = load_yaml(APP_SERVER_ROLE / "vars" / "main.yml")[
        "app_server_revision_unit_pattern"
    ]
    assert all(re.match(unit_pattern, unit) for unit in planned["units"])


def test_any_change_a_process_reads_at_start_is_a_new_revision() -> None:
    """The release, a common file (env, launcher) or the deployment's own unit or config file:
    each is a new revision, started beside the old one; nothing changed is the same revision."""
    deployment = _resolve(next(iter(CATALOG)))

    def revision(release: str, common: list[str], own: str) -> str:
        (planned,) = FILTERS.app_server_with_units(
            [deployment], release, common, _template_results(deployment, own)
        )
        return str(planned["revision"])

    base = revision("release1", ["launcher", "env"], "unit")
    assert base == revision("release1", ["launcher", "env"], "unit")
    changed = [
        revision("release2", ["launcher", "env"], "unit"),
        revision("release1", ["launcher", "env2"], "unit"),
        revision("release1", ["launcher", "env"], "unit2"),
    ]
    assert len({base, *changed}) == 4


def test_a_deployments_revision_ignores_the_other_deployments_files() -> None:
    """In the split layout a change to the async server's config is not a new main revision."""
    main = _resolve(next(iter(CATALOG)))
    other = {**main, "role": "async"}

    def main_revision(other_checksum: str) -> str:
        planned = FILTERS.app_server_with_units(
            [main, other],
            "release",
            [],
            _template_results(main, "same"),
            _template_results(other, other_checksum),
        )
        return str(planned[0]["revision"])

    assert main_revision("a") == main_revision("b")


@pytest.mark.parametrize(
    ("bind", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:8000"),
        ("", "http://127.0.0.1:8000"),
        ("::", "http://[::1]:8000"),
        ("::1", "http://[::1]:8000"),
        ("10.0.0.5", "http://10.0.0.5:8000"),
    ],
)
def test_local_url_reaches_the_bind_address(bind: str, url: str) -> None:
    assert _resolve(next(iter(CATALOG)), bind=bind)["url"] == url


@pytest.mark.parametrize(
    ("bind", "listen", "family"),
    [
        ("127.0.0.1", "127.0.0.1:8000", "INET"),
        ("0.0.0.0", "0.0.0.0:8000", "INET"),
        ("::", "[::]:8000", "INET6"),
        ("::1", "[::1]:8000", "INET6"),
        ("fd00::5", "[fd00::5]:8000", "INET6"),
        ("app.internal", "app.internal:8000", "INET"),
    ],
)
def test_every_server_binds_what_the_address_says(bind: str, listen: str, family: str) -> None:
    """The host:port every config and the launcher's --bind get, and the domain Daphne adopts
    the launcher's socket as."""
    for server in CATALOG:
        deployment = _resolve(server, bind=bind)
        assert (deployment["listen"], deployment["family"]) == (listen, family)


@pytest.mark.parametrize(
    ("value", "ip_address", "host_name"),
    [
        ("127.0.0.1", True, False),
        ("::", True, False),
        ("fe80::1", True, False),
        ("localhost", False, True),
        ("app-1.internal", False, True),
        ("256.1.1.1", False, False),
        ("[::1]", False, False),
        ("127.0.0.1:8000", False, False),
        ("0.0.0.0 --workers 9", False, False),
        ("", False, False),
        ("-leading.example", False, False),
    ],
)
def test_bind_address_tests(value: str, ip_address: bool, host_name: bool) -> None:
    assert LAYOUT_TESTS.layout_ip_address(value) is ip_address
    assert LAYOUT_TESTS.layout_host_name(value) is host_name


@pytest.mark.parametrize(
    ("argument", "in_unit"),
    [
        ("--workers", "--workers"),
        (4, "4"),
        ("systemd:domain=INET:index=0", "systemd:domain=INET:index=0"),
        ("two words", '"two words"'),
        ('a"quote', '"a\\"quote"'),
        ("back\\slash", '"back\\\\slash"'),
        ("$HOME", "$$HOME"),
        ("100%", "100%%"),
        ("semi;colon", '"semi;colon"'),
        ("", '""'),
        ("line\nbreak", '"line\\nbreak"'),
    ],
)
def test_every_execstart_argument_stays_one_argument(argument: object, in_unit: str) -> None:
    """The forms systemd 252 was seen to read back as the very argument (a transient unit
    running printf '[%s]' on each, in the lab)."""
    assert FILTERS.app_server_systemd_arg(argument) == in_unit
