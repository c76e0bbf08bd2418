"""Turning a Django connection's settings back into a DATABASE_URL for subprocesses."""
from __future__ import annotations

from urllib.parse import quote


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL (django-environ syntax) for a Django connection's settings."""
    user = quote(settings_dict["USER"] or "", safe="")
    password = quote(settings_dict["PASSWORD"] or "", safe="")
    auth = f"{user}:{password}@" if password else f"{user}@"
    options = settings_dict.get("OPTIONS") or {}
    host = options.get("host") or settings_dict["HOST"] or ""
    port, name = settings_dict["PORT"] or "", settings_dict["NAME"]
    if host.startswith("/"):  # unix socket directory (the embedded server)
        return f"postgresql://{auth}/{name}?host={host}" + (f"&port={port}" if port else "")
    return f"postgresql://{auth}{host}{':' + str(port) if port else ''}/{name}"
