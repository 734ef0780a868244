"""The postgresql role without a host: its filters and tests (pg_hba.conf addresses, conf values,
memory sizing, the database URL the app parses), its templates as Ansible renders them, and its
checks, which refuse bad settings with the bad value and the valid ones."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import REPO_ROOT, ROLES_DIR, ansible_playbook, load_plugin

FILTERS = load_plugin("postgresql", "filter_plugins")
TESTS = load_plugin("postgresql", "test_plugins")
JSON_CONFIG = Path(__file__).parent / "ansible-json.cfg"


def _app_env() -> ModuleType:
    """The app's config/env.py (parse_database_url), loaded by its path."""
    path = REPO_ROOT / "app" / "config" / "env.py"
    spec = importlib.util.spec_from_file_location("app_config_env", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("address", "written"),
    [
        ("127.0.0.1", "127.0.0.1/32"),
        ("10.0.0.5", "10.0.0.5/32"),
        ("::1", "::1/128"),
        ("2001:0db8:0000::0001", "2001:db8::1/128"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("127.0.0.1/32", "127.0.0.1/32"),
        ("fd00::/64", "fd00::/64"),
    ],
)
def test_hba_addresses_always_carry_their_prefix(address: str, written: str) -> None:
    assert FILTERS.postgresql_hba_address(address) == written
    assert TESTS.postgresql_network(address)


@pytest.mark.parametrize(
    "address", ["10.0.0.5/8", "db.example.org", "localhost", "300.1.1.1", "[::1]", "", "*"]
)
def test_what_is_not_an_hba_address(address: str) -> None:
    assert not TESTS.postgresql_network(address)
    with pytest.raises(ValueError, match=r"does not appear to be|has host bits set"):
        FILTERS.postgresql_hba_address(address)


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.0.0.1/32", True),
        ("::1", True),
        ("::1/128", True),
        ("10.0.0.5", False),
        ("0.0.0.0", False),
        ("*", False),
        ("db.example.org", False),
    ],
)
def test_loopback_addresses(address: str, loopback: bool) -> None:
    assert TESTS.postgresql_loopback(address) is loopback


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (True, "on"),
        (False, "off"),
        (100, "100"),
        (0.9, "0.9"),
        ("512MB", "'512MB'"),
        ("localhost,10.0.0.5", "'localhost,10.0.0.5'"),
        ("it's", "'it''s'"),
    ],
)
def test_conf_values(value: object, written: str) -> None:
    assert FILTERS.postgresql_conf_value(value) == written


def test_a_list_is_not_a_conf_value() -> None:
    with pytest.raises(TypeError, match=r"not a postgresql\.conf value"):
        FILTERS.postgresql_conf_value(["a", "b"])


@pytest.mark.parametrize(
    ("memory_mb", "connections", "expected"),
    [
        # The lab's 2 GB: a quarter, three quarters, a sixteenth, (2048 - 512) MB / 300.
        (
            2048,
            100,
            {
                "shared_buffers": "512MB",
                "effective_cache_size": "1536MB",
                "maintenance_work_mem": "128MB",
                "work_mem": "5242kB",
            },
        ),
        # A small host: work_mem stays at PostgreSQL's own 4 MB.
        (
            512,
            100,
            {
                "shared_buffers": "128MB",
                "effective_cache_size": "384MB",
                "maintenance_work_mem": "32MB",
                "work_mem": "4096kB",
            },
        ),
        # A big host: maintenance_work_mem stops at 2 GB.
        (
            65536,
            200,
            {
                "shared_buffers": "16384MB",
                "effective_cache_size": "49152MB",
                "maintenance_work_mem": "2048MB",
                "work_mem": "83886kB",
            },
        ),
    ],
)
def test_memory_settings(memory_mb: int, connections: int, expected: dict[str, str]) -> None:
    assert FILTERS.postgresql_memory_settings(memory_mb, connections) == expected


def test_memory_settings_need_memory() -> None:
    with pytest.raises(ValueError, match="memory_mb=0"):
        FILTERS.postgresql_memory_settings(0, 100)


@pytest.mark.parametrize(
    ("password", "host", "expected_host"),
    [
        ("0123456789abcdef" * 3, "127.0.0.1", "127.0.0.1"),
        ("0123456789abcdef" * 3, "::1", "::1"),
        ("0123456789abcdef" * 3, "db.example.org", "db.example.org"),
        ("p@ss:w/rd%?#", "10.0.0.5", "10.0.0.5"),
    ],
)
def test_the_database_url_parses_as_the_app_reads_it(
    password: str, host: str, expected_host: str
) -> None:
    url = FILTERS.postgresql_database_url(
        "django_server_lab", password, host, 5432, "django_server_lab"
    )
    assert url.startswith("postgres://django_server_lab:")
    parsed = _app_env().parse_database_url(url)
    assert parsed == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "django_server_lab",
        "USER": "django_server_lab",
        "PASSWORD": password,
        "HOST": expected_host,
        "PORT": "5432",
        "OPTIONS": {},
    }


def test_an_ipv6_host_is_bracketed_in_the_url() -> None:
    url = FILTERS.postgresql_database_url("lab", "ab12", "2001:db8::5", 6432, "lab")
    assert url == "postgres://lab:ab12@[2001:db8::5]:6432/lab"


# --- The role as Ansible runs it (no host: the checks and the templates only) -------------------

PLAYBOOK = """\
- name: The postgresql role's checks and templates
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Check the settings
      ansible.builtin.include_role:
        name: postgresql
        tasks_from: validate
        public: true

    - name: Render the templates
      ansible.builtin.debug:
        msg: "{{{{ lookup('ansible.builtin.template', '{templates}/' ~ item) }}}}"
      loop: [pg_hba.conf.j2, django-server-lab.conf.j2]
"""


def _run_role(tmp_path: Path, extra_vars: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    playbook = tmp_path / "postgresql.yml"
    playbook.write_text(PLAYBOOK.format(templates=ROLES_DIR / "postgresql" / "templates"))
    return ansible_playbook(
        str(playbook),
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        json.dumps({"ansible_python_interpreter": sys.executable, **extra_vars}),
        # Ansible's JSON output: the tests read the messages, not the text.
        extra_env={"ANSIBLE_CONFIG": str(JSON_CONFIG), "ANSIBLE_ROLES_PATH": str(ROLES_DIR)},
    )


def _rendered(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """The templates the run rendered, by name (Ansible's JSON output)."""
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    tasks = json.loads(result.stdout)["plays"][0]["tasks"]
    (host,) = tasks[-1]["hosts"].values()
    return {item["item"]: item["msg"] for item in host["results"]}


def _failures(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The messages of the tasks that failed (of an item, when the task loops)."""
    messages = []
    for task in json.loads(result.stdout)["plays"][0]["tasks"]:
        for host in task["hosts"].values():
            for outcome in host.get("results", [host]):
                if outcome.get("failed"):
                    messages.append(outcome["msg"])
    return messages


def test_the_templates_render_the_settings(tmp_path: Path) -> None:
    result = _run_role(
        tmp_path,
        {
            "postgresql_app_addresses": ["10.0.0.5", "fd00::/64", "10.0.0.5/32"],
            "postgresql_listen_addresses": ["localhost", "10.0.0.2"],
            "postgresql_client_host": "10.0.0.2",
            "postgresql_memory_mb": 2048,
            "postgresql_extra_config": {"work_mem": "8MB", "log_min_duration_statement": 250},
        },
    )
    rendered = _rendered(result)
    hba = [line.split() for line in rendered["pg_hba.conf.j2"].splitlines()]
    rules = [line for line in hba if line and not line[0].startswith("#")]
    app = ["django_server_lab", "django_server_lab"]
    assert rules == [
        ["local", "all", "postgres", "peer"],
        ["host", *app, "10.0.0.5/32", "scram-sha-256"],
        ["host", *app, "fd00::/64", "scram-sha-256"],
    ]
    settings = dict(
        line.split(" = ", 1)
        for line in rendered["django-server-lab.conf.j2"].splitlines()
        if not line.startswith("#")
    )
    assert settings == {
        "effective_cache_size": "'1536MB'",
        "listen_addresses": "'localhost,10.0.0.2'",
        "log_min_duration_statement": "250",
        "maintenance_work_mem": "'128MB'",
        "max_connections": "100",
        "password_encryption": "'scram-sha-256'",
        "port": "5432",
        "shared_buffers": "'512MB'",
        "work_mem": "'8MB'",
    }


REFUSED = [
    (
        {"postgresql_app_addresses": ["10.0.0.5", "10.0.0.5/8"]},
        ["postgresql_app_addresses=", 'lists "10.0.0.5/8"', "10.0.0.0/8, 2001:db8::/32"],
    ),
    (
        {"postgresql_app_addresses": ["db.example.org"]},
        ['lists "db.example.org"', "Valid: addresses or networks such as 127.0.0.1"],
    ),
    ({"postgresql_app_addresses": []}, ["the app role would be admitted from nowhere"]),
    (
        {"postgresql_listen_addresses": ["localhost", "10.0.0.300"]},
        ['lists "10.0.0.300"', "* for every address"],
    ),
    ({"postgresql_listen_addresses": []}, ["the app connects over TCP, so at least one"]),
    (
        {"postgresql_client_host": "[::1]"},
        ["postgresql_client_host='[::1]' must be an IPv4 or IPv6 address or a", "without brackets"],
    ),
    (
        {"postgresql_client_host": "10.0.0.2"},
        ["is loopback only", "add this host's address to postgresql_listen_addresses"],
    ),
    ({"postgresql_memory_mb": 0}, ["postgresql_memory_mb=0 is out of range (128..16777216 MB)"]),
    (
        {"postgresql_max_connections": 5},
        ["postgresql_max_connections=5 is out of range (10..10000)"],
    ),
    (
        {"layout_postgresql_port": 70000},
        ["layout_postgresql_port=70000 is out of range (1..65535)"],
    ),
    (
        {"postgresql_database": "Django-Lab"},
        ["postgresql_database='Django-Lab' must be a plain SQL name"],
    ),
    (
        {"postgresql_extra_config": {"port": 6543}},
        ["postgresql_extra_config sets port=6543: set it with layout_postgresql_port"],
    ),
    (
        {"postgresql_extra_config": {"password_encryption": "md5"}},
        ['password_encryption="md5": it stays scram-sha-256'],
    ),
    (
        {"postgresql_password_length": 16},
        ["postgresql_password_length=16 is below the minimum of 32"],
    ),
]


@pytest.mark.parametrize(
    ("extra_vars", "expected"), REFUSED, ids=[json.dumps(case[0]) for case in REFUSED]
)
def test_bad_settings_are_refused(
    tmp_path: Path, extra_vars: dict[str, Any], expected: list[str]
) -> None:
    result = _run_role(tmp_path, extra_vars)
    assert result.returncode != 0
    (failed,) = _failures(result)
    for words in expected:
        assert words in failed, failed
