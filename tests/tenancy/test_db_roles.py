"""Row-level security holds against the app's own credential (config/db_roles.py).

The tests connect as the runtime role, which is what DATABASE_URL names in production: an SQL
injection or a leaked DATABASE_URL has exactly these rights. Every statement that could switch
row-level security off, widen the role or reach around the policies must be refused. Each runs in
its own savepoint inside the test's transaction, so one that wrongly succeeds changes nothing
for the other tests.
"""
from __future__ import annotations

import secrets

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from config.db_roles import ident
from ops import backup
from schools.models import Child
from tenancy import checks, services
from tenancy.models import AccessLog
from tenancy.rls import POLICY
from tenancy.scoping import tenant_scope
from tests.support.servers import require

# Creates, alters or checks cluster-wide roles: one xdist process runs all such tests.
pytestmark = pytest.mark.xdist_group("cluster_roles")

CHILDREN = Child._meta.db_table  # minors' records: the table that matters most
LOG = AccessLog._meta.db_table


def _one(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _sqlstate(error: DatabaseError) -> str | None:
    return getattr(error.__cause__, "sqlstate", None)


def _names() -> dict[str, str]:
    """The roles as the database sees them: the runtime role is whoever this connection is, the
    owner whoever owns the children's table (today's setup or not)."""
    runtime = _one("SELECT current_user")[0]
    owner = _one("SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = %s", [CHILDREN])[0]
    return {"runtime": ident(runtime), "owner": ident(owner), "db": ident(connection.settings_dict["NAME"]),
            "children": ident(CHILDREN), "log": ident(LOG), "policy": ident(POLICY)}


# Statement -> why it matters. {children} is a school-owned table under FORCE ROW LEVEL SECURITY.
REFUSED = {
    "ALTER TABLE {children} DISABLE ROW LEVEL SECURITY": "switches the policies off",
    "ALTER TABLE {children} NO FORCE ROW LEVEL SECURITY": "exempts the table's owner from the policies",
    "DROP POLICY {policy} ON {children}": "removes the school filter",
    "ALTER POLICY {policy} ON {children} USING (true) WITH CHECK (true)": "makes the filter pass every row",
    "CREATE POLICY open_to_all ON {children} USING (true)": "adds a permissive policy (policies are OR-ed)",
    "ALTER TABLE {children} OWNER TO {runtime}": "takes the table over",
    "ALTER TABLE {children} ADD COLUMN leak text": "changes the schema",
    "DROP TABLE {children}": "destroys the records",
    "TRUNCATE {children}": "empties the table past RLS (TRUNCATE ignores policies)",
    "TRUNCATE {log}": "erases the access log past its append-only trigger",
    "DROP TRIGGER tenancy_accesslog_append_only ON {log}": "makes the access log editable",
    "ALTER TABLE {log} DISABLE TRIGGER tenancy_accesslog_append_only": "makes the access log editable",
    "CREATE TRIGGER copy_out BEFORE INSERT ON {children} FOR EACH ROW "
    "EXECUTE FUNCTION tenancy_accesslog_append_only()": "runs code on every write",
    "CREATE TABLE public.exfiltrate (id int)": "creates objects in the app's schema",
    "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1'": "creates code in the app's schema",
    "CREATE SCHEMA side": "creates a schema of its own",
    "SET ROLE {owner}": "becomes the owner",
    "SET SESSION AUTHORIZATION {owner}": "becomes the owner",
    "GRANT {owner} TO {runtime}": "joins the owner role",
    "REASSIGN OWNED BY {owner} TO {runtime}": "takes every object over",
    "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} GRANT ALL ON TABLES TO {runtime}": "grants itself future tables",
    "ALTER ROLE {runtime} BYPASSRLS": "exempts itself from every policy",
    "ALTER DATABASE {db} OWNER TO {runtime}": "takes the database (and with it `public`) over",
    "ALTER DATABASE {db} SET row_security = off": "changes the database's defaults",
    "COPY {children} TO PROGRAM 'cat > /dev/null'": "runs a program on the server",
}


@pytest.fixture
def entry(tree):
    """A row in a school-owned table, visible inside its school's scope."""
    with tenant_scope([tree.gupei.id]):
        return services.access_log_record(user=tree.gupei_admin, school_id=tree.gupei.id, action="view",
                                          object_type="schools.child", object_id="7")


def test_the_app_connects_as_a_runtime_role_that_owns_nothing(db):
    runtime, owner = _one("SELECT current_user")[0], settings.DATABASE_OWNER["USER"]
    assert runtime == settings.DATABASES["default"]["USER"] and runtime != owner
    assert _one("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")[0] == owner
    owners = {r[0] for r in _all("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")}
    assert owners == {owner}
    assert _one("SELECT rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb FROM pg_roles "
                "WHERE rolname = current_user")[0] is False
    assert _one("SELECT pg_has_role(current_user, %s, 'MEMBER')", [owner])[0] is False
    # DML only; the append-only log not even UPDATE or DELETE (the owner revoked them from itself).
    privileges = {p: _one("SELECT has_table_privilege(%s, %s)", [CHILDREN, p])[0]
                  for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")}
    assert privileges == {"SELECT": True, "INSERT": True, "UPDATE": True, "DELETE": True,
                          "TRUNCATE": False, "REFERENCES": False, "TRIGGER": False}
    assert [p for p in ("SELECT", "INSERT", "UPDATE", "DELETE") if _one(
        "SELECT has_table_privilege(%s, %s)", [LOG, p])[0]] == ["SELECT", "INSERT"]


def _all(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.mark.parametrize("statement", REFUSED)
def test_the_runtime_role_cannot_switch_rls_off_or_widen_itself(db, statement):
    sql = statement.format(**_names())
    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)
    # insufficient_privilege, not a typo that would make this test pass for the wrong reason.
    assert _sqlstate(refused.value) == "42501", (sql, _sqlstate(refused.value), str(refused.value))


def test_granting_itself_more_is_refused(db):
    """A role may run GRANT on a table it holds privileges on; without the grant option PostgreSQL
    only warns "no privileges were granted". The refusal is that nothing changed."""
    names = _names()
    for sql in (f"GRANT TRUNCATE, TRIGGER ON {names['children']} TO {names['runtime']}",
                f"GRANT UPDATE, DELETE ON {names['log']} TO {names['runtime']}"):
        with transaction.atomic():
            with connection.cursor() as cursor:
                try:
                    cursor.execute(sql)
                except DatabaseError:
                    pass  # refused outright: as good
            gained = [p for t, p in ((CHILDREN, "TRUNCATE"), (CHILDREN, "TRIGGER"), (LOG, "UPDATE"), (LOG, "DELETE"))
                      if _one("SELECT has_table_privilege(%s, %s)", [t, p])[0]]
            transaction.set_rollback(True)
        assert gained == [], (sql, gained)


def test_row_security_off_is_an_error_not_a_bypass(entry):
    """Any role may SET row_security = off; for a role bound by a policy that makes every query on
    the table an error instead of returning rows."""
    with tenant_scope([entry.school_id]):
        assert _one(f"SELECT count(*) FROM {LOG}")[0] >= 1  # rows are there, in scope
        with pytest.raises(DatabaseError, match="row-level security") as refused, transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL row_security = off")
                cursor.execute(f"SELECT count(*) FROM {LOG}")
        assert _sqlstate(refused.value) == "42501"
    # Outside any scope, with row_security off for the whole session: refused just the same.
    with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET row_security = off")
            cursor.execute(f"SELECT school_id FROM {LOG}")
    with connection.cursor() as cursor:
        cursor.execute("RESET row_security")


# ---------------------------------------------------------------- tenancy.E001
@pytest.fixture
def admin():
    """A superuser connection to the test database (DATABASE_ADMIN_URL, or the embedded server's)."""
    try:
        database = backup.admin_database(connection.settings_dict["NAME"])
    except backup.BackupError as exc:
        require(False, str(exc))
    return database


def _e001() -> list[str]:
    return [e.msg for e in checks.app_role_cannot_bypass_rls(databases=["default"]) if e.id == "tenancy.E001"]


def test_e001_passes_for_the_runtime_role(db):
    assert _e001() == []


def test_e001_when_the_runtime_role_owns_a_table(db, admin):
    table, runtime = f"e001_probe_{secrets.token_hex(4)}", settings.DATABASES["default"]["USER"]
    with admin.connect() as conn:
        conn.execute(f"CREATE TABLE {table} (id int)")
        conn.execute(f"ALTER TABLE {table} OWNER TO {ident(runtime)}")
    try:
        found = _e001()
    finally:
        with admin.connect() as conn:
            conn.execute(f"DROP TABLE {table}")
    assert len(found) == 1 and f"table {table}" in found[0] and runtime in found[0], found


def test_e001_when_the_runtime_role_is_a_member_of_a_table_owner(db, admin):
    """Membership is enough: the member can SET ROLE to the owner, or acts with its rights."""
    suffix = secrets.token_hex(4)
    table, role, runtime = f"e001_probe_{suffix}", f"e001_owner_{suffix}", settings.DATABASES["default"]["USER"]
    with admin.connect() as conn:
        conn.execute(f"CREATE ROLE {role} NOLOGIN")
        conn.execute(f"CREATE TABLE {table} (id int)")
        conn.execute(f"ALTER TABLE {table} OWNER TO {role}")
        conn.execute(f"GRANT {role} TO {ident(runtime)}")
    try:
        found = _e001()
    finally:
        with admin.connect() as conn:
            conn.execute(f"DROP TABLE {table}")
            conn.execute(f"DROP ROLE {role}")  # its membership goes with it
    assert len(found) == 1 and f"table {table}" in found[0], found
    assert _e001() == []


def test_e001_when_the_runtime_role_owns_the_database(db, admin):
    name, runtime, owner = (connection.settings_dict["NAME"], settings.DATABASES["default"]["USER"],
                            settings.DATABASE_OWNER["USER"])
    with admin.connect() as conn:
        conn.execute(f"ALTER DATABASE {ident(name)} OWNER TO {ident(runtime)}")
    try:
        found = _e001()
    finally:
        with admin.connect() as conn:
            conn.execute(f"ALTER DATABASE {ident(name)} OWNER TO {ident(owner)}")
    # The database, and `public` through pg_database_owner (PostgreSQL 15+) or directly.
    assert len(found) == 1 and f"database {name}" in found[0], found
