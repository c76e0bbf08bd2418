"""Throwaway databases on the configured PostgreSQL server, always dropped afterwards.

As everywhere (config/db_roles.py), the owner role creates the database and, through `migrate`,
owns every table in it, while the benchmarks connect as the runtime role. The owner is what lets
the RLS benchmark switch the policies off and on again (`as_owner`, never on a real database) and
VACUUM ANALYZE the generated data (`analyze`).
"""
from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, connections

from config.db_roles import as_owner

PREFIX = "liushou_bench"


def check_name(name: str) -> str:
    if not name.replace("_", "").isalnum() or not name.startswith(PREFIX):
        raise CommandError(f"Benchmark databases must be {PREFIX}* names (they are dropped afterwards): {name!r}")
    if name == connections["default"].settings_dict["NAME"]:
        raise CommandError("Refusing to use the configured database.")
    return name


def database_url(name: str | None = None, *, owner: bool = False) -> str:
    """A URL for the default connection's server and (runtime, or with owner=True the owner) role,
    naming database `name`."""
    d = connections["default"].settings_dict
    creds = settings.DATABASE_OWNER if owner else d
    user = quote(creds.get("USER") or "", safe="")
    password = quote(creds.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    db = name or d["NAME"]
    # The embedded server's socket folder arrives as OPTIONS["host"] (from `?host=` in its URL).
    host = d.get("HOST") or (d.get("OPTIONS") or {}).get("host") or ""
    port = d.get("PORT") or ""
    if host.startswith("/"):  # a Unix socket folder (the embedded server)
        return f"postgresql://{auth}/{db}?host={quote(host, safe='/')}" + (f"&port={port}" if port else "")
    return f"postgresql://{auth}{host}{':' + str(port) if port else ''}/{db}"


def environment(name: str | None = None) -> dict[str, str]:
    """DATABASE_URL and DATABASE_OWNER_URL for a child process (which may migrate)."""
    return {"DATABASE_URL": database_url(name), "DATABASE_OWNER_URL": database_url(name, owner=True)}


def analyze() -> None:
    """VACUUM ANALYZE the connected database, as autovacuum would for a live one: only the tables'
    owner may (the runtime role's VACUUM skips every table)."""
    with as_owner(), connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def drop(name: str) -> None:
    check_name(name)
    with as_owner(), connection.cursor() as cursor:
        # Connections left by a killed gunicorn worker would block the DROP.
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                       "AND pid <> pg_backend_pid()", [name])
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _switch(name: str) -> None:
    connections["default"].close()
    connections["default"].settings_dict["NAME"] = name
    settings.DATABASES["default"]["NAME"] = name


@contextmanager
def throwaway_database(name: str):
    """Create `name` (as the owner role), point the default connection at it for the block, then
    drop it (also on failure). Django connections run in autocommit mode, which CREATE/DROP
    DATABASE need."""
    check_name(name)
    original = connections["default"].settings_dict["NAME"]
    drop(name)
    with as_owner(), connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
    try:
        _switch(name)
        yield name
    finally:
        _switch(original)
        drop(name)
