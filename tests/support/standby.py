"""The streaming hot standby behind the `replica` alias (.ci/standby.sh), for tests/replica/.

`standby()` checks that the alias is configured and that its server is a standby in recovery
(else skip, or fail under REQUIRE_SERVICES=1); `superuser()` opens a connection to it as postgres
(pausing replay needs a superuser); `wait_replayed()` waits until it has replayed the primary's
current WAL position.
"""
from __future__ import annotations

import time

import psycopg
from django.conf import settings
from django.db import connections

from tests.support.servers import require


def superuser_dsn() -> str:
    replica = settings.DATABASES["replica"]
    return (f"host={replica['HOST']} port={replica['PORT']} user=postgres dbname={replica['NAME']}"
            " connect_timeout=3")


def standby_available() -> tuple[bool, str]:
    if "replica" not in settings.DATABASES:
        return False, "DATABASE_REPLICA_URL is not set (start the standby: .ci/standby.sh start)"
    try:
        with psycopg.connect(superuser_dsn(), autocommit=True) as conn:
            if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                return False, "the replica alias's server is not a standby in recovery"
    except psycopg.Error as exc:
        return False, f"the standby behind DATABASE_REPLICA_URL does not answer ({exc})"
    return True, ""


def require_standby() -> None:
    ok, reason = standby_available()
    require(ok, reason)


def superuser() -> psycopg.Connection:
    return psycopg.connect(superuser_dsn(), autocommit=True)


def primary_lsn() -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        return cursor.fetchone()[0]


def wait_replayed(timeout: float = 30.0) -> None:
    """Wait until the standby has replayed everything the primary committed so far."""
    target = primary_lsn()
    deadline = time.monotonic() + timeout
    with superuser() as conn:
        while time.monotonic() < deadline:
            if conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError(f"the standby did not replay {target} within {timeout}s")
