"""Embedded PostgreSQL (the `pgserver` package) for a machine with no database installed.

Used only when DATABASE_URL is unset. The embedded server runs as a superuser, so we create a
separate login role for the application: it is neither superuser nor BYPASSRLS, which keeps the
row-level-security policies in force exactly as in production.
"""
from __future__ import annotations

import os
from pathlib import Path

APP_ROLE = "liushou_app"
APP_PASSWORD = "liushou_app"  # local socket only; never used outside the embedded server
APP_DB = "liushou"

_uri_cache: str | None = None


def data_dir() -> Path:
    root = Path(__file__).resolve().parents[2]
    return Path(os.environ.get("EMBEDDED_PG_DIR", root / "var" / "pgdata"))


def ensure_app_role(admin_uri: str, role: str, password: str, dbname: str) -> None:
    """Create the non-privileged application role and its database, idempotently."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone()
        if not exists:
            conn.execute(
                sql.SQL(
                    "CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOBYPASSRLS CREATEDB NOCREATEROLE"
                ).format(sql.Identifier(role), sql.Literal(password))
            )
        else:
            # Fail closed even if someone widened the role by hand.
            conn.execute(sql.SQL("ALTER ROLE {} NOSUPERUSER NOBYPASSRLS").format(sql.Identifier(role)))
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone():
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
                    sql.Identifier(dbname), sql.Identifier(role)
                )
            )


def database_url() -> str:
    """Start (or join) the embedded server and return the application role's URL."""
    global _uri_cache
    if _uri_cache:
        return _uri_cache
    import logging
    import warnings

    logging.getLogger("pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        import pgserver

    directory = data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = pgserver.get_server(str(directory), cleanup_mode="stop")
    admin_uri = server.get_uri()
    ensure_app_role(admin_uri, APP_ROLE, APP_PASSWORD, APP_DB)
    # Keep a reference so the server lives as long as this process.
    globals()["_server"] = server
    _uri_cache = f"postgresql://{APP_ROLE}:{APP_PASSWORD}@/{APP_DB}?host={directory}"
    return _uri_cache


def admin_url(database: str | None = None) -> str:
    """The embedded server's superuser URL, for backup and restore: row-level security binds the
    app role, so only a role that bypasses it can dump or load every school's rows."""
    database_url()
    return globals()["_server"].get_uri(database=database)
