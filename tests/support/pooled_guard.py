"""pytest plugin for a run through a shared PgBouncer (.ci/pooled-subset loads it with `-p`).

PGBOUNCER_ADMIN_URL names the pooler's admin console. Each process checks once, after its test
database is set up, that its default connection really is one of the pooler's server connections
(its backend pid is in SHOW SERVERS), so a run that silently went straight to PostgreSQL fails.
At the end the pooler lets go of its server connections to the test database (KILL, then RESUME),
which DROP DATABASE needs: pgbouncer keeps idle server connections open after the clients left.
"""
from __future__ import annotations

import os

import pytest

from benchmarks.pooler import admin, release


@pytest.fixture(scope="session", autouse=True)
def _through_the_pooler(request, django_db_setup, django_db_blocker):
    url = os.environ.get("PGBOUNCER_ADMIN_URL")
    if not url:
        pytest.fail("tests.support.pooled_guard needs PGBOUNCER_ADMIN_URL (the pooler's admin console)",
                    pytrace=False)
    from django.conf import settings
    from django.db import connection

    if settings.DATABASE_POOL_MODE != "transaction":
        pytest.fail("a pooled run needs DATABASE_POOL_MODE=transaction", pytrace=False)
    database = connection.settings_dict["NAME"]
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            # One statement: in transaction mode the backend is only ours for its duration.
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        servers = {s["remote_pid"]: s["database"] for s in admin(url, "SHOW SERVERS")}
        connection.close()
    if servers.get(pid) != database:
        pytest.fail(f"the test database {database} is not reached through the pooler at {url}: backend {pid} "
                    f"is not one of its server connections", pytrace=False)
    yield
    with django_db_blocker.unblock():
        connection.close()
        release(url, database)
