"""A PgBouncer of the test's own in front of the test database's server (benchmarks/pooler.py), and
Django's `default` connection switched over to it for a block."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connections

from benchmarks.pooler import PgBouncer
from tests.support.db import database_url
from tests.support.servers import require


def available() -> None:
    require(shutil.which("pgbouncer") is not None or os.path.exists("/usr/sbin/pgbouncer"),
            "pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    # PgBouncer runs as another system user and reaches the server over TCP; the embedded
    # development server (no DATABASE_URL) listens on a private socket directory only.
    host = connections["default"].settings_dict.get("HOST") or ""
    require(bool(host) and not host.startswith("/"),
            "the pooler tests need the database server on TCP (set DATABASE_URL, as .ci/run does)")


@contextmanager
def pooler_for_test_db(**options) -> Iterator[PgBouncer]:
    """A fresh PgBouncer (own port) in front of the server the default connection uses, for its
    runtime and owner roles."""
    available()
    d = connections["default"].settings_dict
    users = [d["USER"], (settings.DATABASE_OWNER or {}).get("USER", "")]
    with PgBouncer(upstream_host=d["HOST"] or "127.0.0.1", upstream_port=int(d["PORT"] or 5432),
                   users=users, **options) as pooler:
        yield pooler


def runtime_url(pooler: PgBouncer) -> str:
    """The test database, as the runtime role, through the pooler."""
    return pooler.url(database_url(connections["default"].settings_dict))


@contextmanager
def default_through(pooler: PgBouncer, alias: str = "default") -> Iterator[None]:
    """Django's connection `alias` goes through the pooler in the block (no transaction may be open)."""
    conn = connections[alias]
    if conn.in_atomic_block:
        raise RuntimeError("switch the connection to the pooler outside a transaction")
    original = conn.settings_dict
    conn.close()
    # A copy, as config.db_roles.as_owner does: other aliases and threads keep the direct server.
    # With what DATABASE_POOL_MODE=transaction sets (config/settings/base.py).
    options = {**original.get("OPTIONS", {}), "prepare_threshold": None}
    conn.settings_dict = {**original, "HOST": "127.0.0.1", "PORT": str(pooler.port),
                          "DISABLE_SERVER_SIDE_CURSORS": True, "OPTIONS": options}
    try:
        yield
    finally:
        conn.close()
        conn.settings_dict = original
