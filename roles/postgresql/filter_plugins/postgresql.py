"""Jinja filters of the postgresql role: pg_hba.conf addresses, postgresql.conf values, the
memory settings sized for a host and the database URL the app reads."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import quote

# PostgreSQL's own default work_mem (kB): the sized value never goes below it.
DEFAULT_WORK_MEM_KB = 4096
# maintenance_work_mem beyond 2 GB buys little (VACUUM used at most 1 GB before PostgreSQL 17).
MAX_MAINTENANCE_WORK_MEM_MB = 2048


def postgresql_hba_address(value: object) -> str:
    """An address or network as pg_hba.conf's ADDRESS column takes it: always with its prefix
    length (a bare address is that one host, /32 or /128), IPv6 compressed. A network with host
    bits set or anything that is not an address raises ValueError (the role checks first)."""
    return str(ipaddress.ip_network(str(value), strict=True))


def postgresql_conf_value(value: object) -> str:
    """A value as postgresql.conf writes it: booleans on/off, numbers bare, anything else a
    single-quoted string with its quotes doubled (so '512MB' and 'localhost,::1' both work)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"{value!r} is not a postgresql.conf value (a string, number or boolean)")


def postgresql_memory_settings(memory_mb: int, max_connections: int) -> dict[str, str]:
    """The memory settings for a host of memory_mb, with max_connections: shared_buffers a
    quarter, effective_cache_size three quarters (what the planner may assume the OS caches),
    maintenance_work_mem a sixteenth up to 2 GB, and work_mem the memory outside
    shared_buffers over three sorts or hashes per connection, at least PostgreSQL's 4 MB."""
    memory_mb, max_connections = int(memory_mb), int(max_connections)
    if memory_mb <= 0 or max_connections <= 0:
        raise ValueError(f"memory_mb={memory_mb} and max_connections={max_connections} must be > 0")
    shared_buffers_mb = memory_mb // 4
    work_mem_kb = (memory_mb - shared_buffers_mb) * 1024 // (3 * max_connections)
    return {
        "shared_buffers": f"{shared_buffers_mb}MB",
        "effective_cache_size": f"{memory_mb * 3 // 4}MB",
        "maintenance_work_mem": f"{max(1, min(memory_mb // 16, MAX_MAINTENANCE_WORK_MEM_MB))}MB",
        "work_mem": f"{max(DEFAULT_WORK_MEM_KB, work_mem_kb)}kB",
    }


def postgresql_database_url(user: str, password: str, host: str, port: int, database: str) -> str:
    """postgres://USER:PASSWORD@HOST:PORT/DATABASE with user, password and database
    percent-encoded and an IPv6 host in brackets: what the app's parse_database_url reads."""
    try:
        address = ipaddress.ip_address(str(host))
    except ValueError:
        netloc_host = str(host)
    else:
        netloc_host = f"[{address}]" if address.version == 6 else str(address)
    credentials = f"{quote(str(user), safe='')}:{quote(str(password), safe='')}"
    return f"postgres://{credentials}@{netloc_host}:{int(port)}/{quote(str(database), safe='')}"


class FilterModule:
    """Ansible entry point."""

    def filters(self) -> dict[str, Any]:
        return {
            "postgresql_hba_address": postgresql_hba_address,
            "postgresql_conf_value": postgresql_conf_value,
            "postgresql_memory_settings": postgresql_memory_settings,
            "postgresql_database_url": postgresql_database_url,
        }
