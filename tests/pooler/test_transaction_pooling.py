"""Row-level security behind PgBouncer in transaction mode, with ONE server connection for every
client: two schools' transactions interleave on the same PostgreSQL backend, and nothing a
transaction sets (the tenant scope, work_mem, the time zone) reaches the next client's transaction.
"""
from __future__ import annotations

import queue
import subprocess
import sys
import threading

import psycopg
import pytest
from django.db import connection, transaction

from benchmarks.pooler import admin
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope
from tests.support.pooler import default_through, pooler_for_test_db, runtime_url

pytestmark = pytest.mark.django_db(transaction=True)

# Any session-level state a transaction left behind on the backend (SET, set_config(..., false)).
SESSION_STATE = "SELECT name, setting FROM pg_settings WHERE source = 'session' ORDER BY name"
SCOPE = "SELECT current_setting('app.school_ids', true), current_setting('app.district_ids', true)"


@pytest.fixture
def pooler():
    with pooler_for_test_db(pool_size=1) as p:
        yield p


class DjangoClient(threading.Thread):
    """A thread with its own Django connection through the pooler, running one step at a time."""

    def __init__(self, pooler):
        super().__init__(daemon=True)
        self.pooler, self.inbox, self.outbox = pooler, queue.Queue(), queue.Queue()

    def run(self):
        with default_through(self.pooler):
            while (step := self.inbox.get()) is not None:
                try:
                    self.outbox.put((True, step()))
                except Exception as exc:  # handed back to the test
                    self.outbox.put((False, exc))
        connection.close()

    def __call__(self, step):
        self.inbox.put(step)
        ok, value = self.outbox.get(timeout=30)
        if not ok:
            raise value
        return value

    def stop(self):
        self.inbox.put(None)
        self.join(10)


def _one(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _begin_state():
    """At the start of a transaction: its backend, the tenant settings, any session-level setting."""
    return _one("SELECT pg_backend_pid()")[0][0], _one(SCOPE)[0], _one(SESSION_STATE)


def _log(school_id):
    _one("INSERT INTO tenancy_accesslog (school_id, at, action, object_type, object_id, detail)"
         " VALUES (%s, now(), 'view', 'pooler.test', 'x', '{}')", [school_id])


def _visible():
    return sorted({r[0] for r in _one("SELECT school_id FROM tenancy_accesslog")})


def test_django_scopes_interleaved_on_one_backend(tree, pooler):
    gupei, menzhuang = tree.gupei.id, tree.menzhuang.id
    a, b = DjangoClient(pooler), DjangoClient(pooler)
    a.start()
    b.start()
    try:
        def a_writes():
            with transaction.atomic():
                begin = _begin_state()
                with tenant_scope([gupei]):
                    _log(gupei)
                    # What compliance/metrics/registry.py does: transaction-local work_mem.
                    _one("SELECT set_config('work_mem', '64MB', true)")
                    return begin, _visible(), _one("SHOW work_mem")[0][0]

        def unscoped():
            with transaction.atomic():
                return _begin_state(), _visible(), _one("SHOW work_mem")[0][0]

        def b_scoped():
            with transaction.atomic():
                begin = _begin_state()
                with tenant_scope([menzhuang]):
                    _log(menzhuang)
                    return begin, _visible()

        def a_scoped():
            with tenant_scope([gupei]):
                return _visible(), set(AccessLog.objects.values_list("school_id", flat=True))

        (pid, scope, session), seen, work_mem = a(a_writes)
        assert scope == ("", "") or scope == (None, None)
        assert session == [] and seen == [gupei] and work_mem == "64MB"

        (pid_b, scope_b, session_b), seen_b, work_mem_b = b(unscoped)
        assert pid_b == pid, "one server connection: B must run on A's backend"
        assert scope_b in (("", ""), (None, None)) and session_b == []
        assert seen_b == [], "B without a scope must see nothing, not A's school"
        assert work_mem_b != "64MB"

        (pid_b, scope_b, session_b), seen_b = b(b_scoped)
        assert pid_b == pid and scope_b in (("", ""), (None, None)) and session_b == []
        assert seen_b == [menzhuang]

        (pid_a, scope_a, session_a), seen_a, _ = a(unscoped)
        assert pid_a == pid and scope_a in (("", ""), (None, None)) and session_a == []
        assert seen_a == []

        assert a(a_scoped) == ([gupei], {gupei})
        # Django asked for no session time zone: the pooler's server connection is already UTC.
        assert a(lambda: connection.connection.info.parameter_status("TimeZone")) == "UTC"
        servers = admin(pooler.admin_url(), "SHOW SERVERS")
        assert len(servers) == 1 and servers[0]["remote_pid"] == pid
    finally:
        a.stop()
        b.stop()


def test_psycopg_clients_interleaved_on_one_backend(tree, pooler):
    url = runtime_url(pooler)
    gupei, menzhuang = tree.gupei.id, tree.menzhuang.id
    with psycopg.connect(url) as a, psycopg.connect(url) as b:
        def enter(conn, school):
            conn.execute("SELECT set_config('app.school_ids', %s, true)", [str(school)])

        def state(conn):
            return (conn.execute("SELECT pg_backend_pid()").fetchone()[0], conn.execute(SCOPE).fetchone()[0],
                    conn.execute(SESSION_STATE).fetchall())

        def visible(conn):
            return sorted({r[0] for r in conn.execute("SELECT school_id FROM tenancy_accesslog")})

        with a.transaction():
            pid, scope, session = state(a)
            enter(a, gupei)
            a.execute("INSERT INTO tenancy_accesslog (school_id, at, action, object_type, object_id, detail)"
                      " VALUES (%s, now(), 'view', 'pooler.test', 'a', '{}')", [gupei])
            assert visible(a) == [gupei]
        assert scope in ("", None) and session == []
        with b.transaction():
            assert state(b) in ((pid, "", []), (pid, None, []))
            assert visible(b) == []
            enter(b, menzhuang)
            assert visible(b) == [menzhuang]
        with a.transaction():
            assert state(a) in ((pid, "", []), (pid, None, []))
            assert visible(a) == []


def test_repeated_statements_are_never_prepared(tree, pooler):
    """Django keeps psycopg from preparing (prepare_threshold=None), so a statement run past
    psycopg's threshold of 5 by two clients on one backend still works."""
    a, b = DjangoClient(pooler), DjangoClient(pooler)
    a.start()
    b.start()
    sql = "SELECT count(*) FROM tenancy_school WHERE id = %s"
    try:
        for _ in range(8):
            for client in (a, b):
                assert client(lambda: _one(sql, [tree.gupei.id])) == [(1,)]
        assert a(lambda: _one("SELECT count(*) FROM pg_prepared_statements")) == [(0,)]
        # .iterator() outside a transaction: a plain cursor, not a WITH HOLD one left on the backend.
        assert a(lambda: sorted(AccessLog.objects.none().iterator())) == []
        assert a(lambda: _one("SELECT count(*) FROM pg_cursors")) == [(0,)]
    finally:
        a.stop()
        b.stop()


def test_prepared_statements_would_collide(tree, pooler):
    """The failure the setting prevents: psycopg preparing per client connection, while both
    clients' statements land on one backend."""
    url = runtime_url(pooler)
    with psycopg.connect(url, prepare_threshold=0, autocommit=True) as a, \
            psycopg.connect(url, prepare_threshold=0, autocommit=True) as b:
        a.execute("SELECT 1 WHERE %s::int > 0", [1])
        with pytest.raises(psycopg.errors.DuplicatePreparedStatement):
            b.execute("SELECT 1 WHERE %s::int > 0", [1])


@pytest.mark.django_db(transaction=False)
def test_pool_mode_setting():
    code = ("from django.conf import settings; d = settings.DATABASES['default']; "
            "print(d.get('DISABLE_SERVER_SIDE_CURSORS'), repr(d['OPTIONS'].get('prepare_threshold', 'unset')))")

    def run(mode):
        import os

        env = {**os.environ, "DATABASE_POOL_MODE": mode, "DJANGO_SETTINGS_MODULE": "config.settings.test",
               "PYTHONPATH": "platform:."}
        return subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], env=env,
                              capture_output=True, text=True, check=False)

    assert run("transaction").stdout.split() == ["True", "None"]
    assert run("").stdout.split() == ["None", "'unset'"]
    assert "DATABASE_POOL_MODE" in run("bogus").stderr
