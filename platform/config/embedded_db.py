"""Embedded PostgreSQL (the `pgserver` package) for a machine with no database installed.

Used only when DATABASE_URL is unset. The embedded server runs as a superuser; the application
gets the same two roles as production (config/db_roles.py): liushou_owner owns the database and
runs the migrations, liushou_app is what the app connects as and owns nothing. Neither is
superuser nor BYPASSRLS, so row-level security applies exactly as in production. A data folder
from before the split (liushou_app owned everything) is moved over at start-up.
"""
from __future__ import annotations

import os
from pathlib import Path

from config.db_roles import ensure_roles

APP_ROLE = "liushou_app"
APP_PASSWORD = "liushou_app"  # local socket only; never used outside the embedded server
OWNER_ROLE = "liushou_owner"
OWNER_PASSWORD = "liushou_owner"  # likewise
APP_DB = "liushou"

_uri_cache: str | None = None


def data_dir() -> Path:
    root = Path(__file__).resolve().parents[2]
    return Path(os.environ.get("EMBEDDED_PG_DIR", root / "var" / "pgdata"))


def database_url() -> str:
    """Start (or join) the embedded server and return the runtime role's URL."""
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
    ensure_roles(admin_uri, dbname=APP_DB, owner=OWNER_ROLE, owner_password=OWNER_PASSWORD, runtime=APP_ROLE,
                 runtime_password=APP_PASSWORD)
    # Keep a reference so the server lives as long as this process.
    globals()["_server"] = server
    _uri_cache = f"postgresql://{APP_ROLE}:{APP_PASSWORD}@/{APP_DB}?host={directory}"
    return _uri_cache


def admin_url(database: str | None = None) -> str:
    """The embedded server's superuser URL, for backup and restore: row-level security binds both
    roles, so only a role that bypasses it can dump or load every school's rows."""
    database_url()
    return globals()["_server"].get_uri(database=database)


def owner_credentials() -> dict:
    """The owner role's USER and PASSWORD (settings.DATABASE_OWNER when DATABASE_URL is unset)."""
    return {"USER": OWNER_ROLE, "PASSWORD": OWNER_PASSWORD}
