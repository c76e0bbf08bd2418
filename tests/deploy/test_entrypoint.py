"""deploy/entrypoint.sh for real: db_bootstrap as the superuser, migrate as the owner role, then exec
the command with neither the superuser's nor the owner's URL; and a single-role installation (the
app's role owning everything) moved over to the two roles by the same start-up."""
from __future__ import annotations

import os
import secrets
import subprocess
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from config import db_roles
from tests.support.servers import require

from .support import ROOT, production_env

# Creates, alters or checks cluster-wide roles: one xdist process runs all such tests.
pytestmark = pytest.mark.xdist_group("cluster_roles")

# Role names are global to the server: these are this test's own.
ROLE = DBNAME = "liushou_entrypoint_test"
OWNER = "liushou_entrypoint_owner"


def _admin_url() -> str | None:
    if os.environ.get("DATABASE_ADMIN_URL"):
        return os.environ["DATABASE_ADMIN_URL"]
    if not os.environ.get("DATABASE_URL"):
        from config import embedded_db

        server = getattr(embedded_db, "_server", None)
        if server is not None:
            return server.get_uri()
    return None


def _with_credentials(url: str, user: str, password: str, dbname: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"{user}:{password}@{host}", f"/{dbname}", parts.query, ""))


def _drop(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DBNAME)))
        for role in (ROLE, OWNER):
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture
def admin_url():
    url = _admin_url()
    require(url is not None, "no superuser URL: set DATABASE_ADMIN_URL next to DATABASE_URL")
    _drop(url)
    yield url
    _drop(url)


def _env(admin_url: str, **overrides) -> dict[str, str]:
    return production_env(
        DATABASE_ADMIN_URL=admin_url,
        DATABASE_URL=_with_credentials(admin_url, ROLE, "runtime-password", DBNAME),
        DATABASE_OWNER_URL=_with_credentials(admin_url, OWNER, secrets.token_hex(12), DBNAME),
        **overrides)


def _start(env: dict[str, str], *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["deploy/entrypoint.sh", *command], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def _state(admin_url: str) -> dict:
    """Roles, owners and the runtime role's rights in the app database, as the superuser sees them."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        roles = {r[0]: r[1:] for r in conn.execute(
            "SELECT rolname, rolsuper, rolbypassrls, rolcreatedb FROM pg_roles WHERE rolname = ANY(%s)",
            [[ROLE, OWNER]]).fetchall()}
        db_owner = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
                                [DBNAME]).fetchone()[0]
    with psycopg.connect(_database(admin_url), autocommit=True) as conn:
        owners = {r[0] for r in conn.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")}
        log = [p for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
               if conn.execute("SELECT has_table_privilege(%s, 'tenancy_accesslog', %s)", [ROLE, p]).fetchone()[0]]
        migrations = conn.execute("SELECT count(*) FROM django_migrations WHERE app = 'tenancy'").fetchone()[0]
    return {"roles": roles, "db_owner": db_owner, "table_owners": owners, "log": log, "migrations": migrations}


def _database(admin_url: str) -> str:
    """The admin URL, pointing at the app database."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(admin_url)
    params["dbname"] = DBNAME
    return make_conninfo("", **params)


PROBE = ("import os; print('urls left' if {'DATABASE_ADMIN_URL', 'DATABASE_OWNER_URL'} & set(os.environ) "
         "else 'admin and owner urls gone')")
TWO_ROLES = {
    "roles": {ROLE: (False, False, False), OWNER: (False, False, True)},
    "db_owner": OWNER,
    "table_owners": {OWNER},
    "log": ["SELECT", "INSERT"],  # the append-only access log
}


def test_entrypoint_bootstraps_the_roles_migrates_and_execs(admin_url):
    env = _env(admin_url)
    for attempt in (1, 2):  # a restarted container runs it again: idempotent
        out = _start(env, "python", "-c", PROBE)
        assert out.returncode == 0, (attempt, out.stdout, out.stderr)
        lines = out.stdout.splitlines()
        assert f"roles {OWNER} (owner) and {ROLE} (runtime) and database {DBNAME} are ready" in out.stdout
        # The order: bootstrap, then migrate, then the command, which no longer sees either URL.
        assert lines[-1] == "admin and owner urls gone", out.stdout
        assert (out.stdout.index("are ready") < out.stdout.index("entrypoint: migrate")
                < out.stdout.index("admin and owner urls gone"))
        if attempt == 2:
            assert "created" not in out.stdout and "moved" not in out.stdout, out.stdout  # nothing left to do
    state = _state(admin_url)
    assert {k: state[k] for k in TWO_ROLES} == TWO_ROLES
    assert state["migrations"] > 0
    # And the runtime role cannot switch row-level security off.
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("ALTER TABLE schools_child NO FORCE ROW LEVEL SECURITY")


def test_entrypoint_moves_a_single_role_installation_over(admin_url):
    """Before the two roles, the app's role owned the database and every table, had CREATEDB, and no
    owner role existed. The next start-up (db_bootstrap, then migrate) moves it over."""
    env = _env(admin_url)
    assert _start(env, "true").returncode == 0
    with psycopg.connect(_database(admin_url), autocommit=True) as conn, conn.transaction():
        db_roles.adopt(conn, owner=ROLE, previous=OWNER)
        conn.execute(f"ALTER SCHEMA public OWNER TO {ROLE}")
        conn.execute(f"ALTER DATABASE {DBNAME} OWNER TO {ROLE}")
        conn.execute(f"DROP OWNED BY {OWNER}")  # its default privileges
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP ROLE {OWNER}")
        conn.execute(f"ALTER ROLE {ROLE} CREATEDB")
    old = _state(admin_url)
    assert old["db_owner"] == ROLE and old["table_owners"] == {ROLE} and OWNER not in old["roles"]

    out = _start(env, "python", "-c", PROBE)
    assert out.returncode == 0, (out.stdout, out.stderr)
    assert f"created role {OWNER}" in out.stdout and "moved" in out.stdout, out.stdout
    state = _state(admin_url)
    assert {k: state[k] for k in TWO_ROLES} == TWO_ROLES
    assert state["migrations"] == old["migrations"]
    again = _start(env, "true")
    assert again.returncode == 0 and "moved" not in again.stdout, again.stdout


def test_entrypoint_stops_when_a_step_fails(admin_url):
    # After a good bootstrap, point the app at a database that does not exist (without the admin
    # URL nothing creates it): migrate fails and nothing must be served.
    env = _env(admin_url)
    first = _start(env, "true")
    assert first.returncode == 0, first.stderr
    env["DATABASE_URL"] = _with_credentials(admin_url, ROLE, "runtime-password", DBNAME + "_missing")
    env.pop("DATABASE_ADMIN_URL")
    out = _start(env, "python", "-c", "print('served')")
    assert out.returncode != 0
    assert "entrypoint: migrate" in out.stdout  # it got as far as migrate, which failed
    assert f'database "{DBNAME}_missing" does not exist' in out.stderr, out.stderr
    assert "served" not in out.stdout


def test_entrypoint_refuses_to_migrate_without_the_owner_url(admin_url):
    """Migrating as the runtime role would make it the tables' owner again."""
    env = _env(admin_url)
    assert _start(env, "true").returncode == 0
    env.pop("DATABASE_ADMIN_URL")
    env.pop("DATABASE_OWNER_URL")
    out = _start(env, "python", "-c", "print('served')")
    assert out.returncode != 0 and "served" not in out.stdout
    assert "set DATABASE_OWNER_URL" in out.stderr, out.stderr
