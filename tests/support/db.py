"""Turning a Django connection's settings back into database URLs for subprocesses."""
from __future__ import annotations

from urllib.parse import quote


def database_url(settings_dict: dict, *, user: str | None = None, password: str | None = None) -> str:
    """A DATABASE_URL (django-environ syntax) for a Django connection's settings (another role's
    credentials if given)."""
    user = quote((user if user is not None else settings_dict["USER"]) or "", safe="")
    password = quote((password if password is not None else settings_dict["PASSWORD"]) or "", safe="")
    auth = f"{user}:{password}@" if password else f"{user}@"
    options = settings_dict.get("OPTIONS") or {}
    host = options.get("host") or settings_dict["HOST"] or ""
    port, name = settings_dict["PORT"] or "", settings_dict["NAME"]
    if host.startswith("/"):  # unix socket directory (the embedded server)
        return f"postgresql://{auth}/{name}?host={host}" + (f"&port={port}" if port else "")
    return f"postgresql://{auth}{host}{':' + str(port) if port else ''}/{name}"


def owner_database_url(settings_dict: dict) -> str:
    """DATABASE_OWNER_URL for the same database: the owner role's credentials (config/db_roles.py)."""
    from django.conf import settings

    owner = settings.DATABASE_OWNER
    return database_url(settings_dict, user=owner["USER"], password=owner["PASSWORD"])


def database_env(settings_dict: dict) -> dict[str, str]:
    """DATABASE_URL and DATABASE_OWNER_URL for a subprocess that uses this database and may migrate."""
    return {"DATABASE_URL": database_url(settings_dict), "DATABASE_OWNER_URL": owner_database_url(settings_dict)}
