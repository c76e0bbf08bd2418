"""The two database roles, in one place: who owns the schema, who the app connects as, and the
grants between them (README, "Database roles"). Both log in, neither is superuser nor BYPASSRLS.

- The OWNER (`DATABASE_OWNER_URL`, embedded: liushou_owner) owns the database, `public` and every
  object in it, and has CREATEDB. Only `manage.py migrate` and `flush` connect as it (`as_owner`).
- The RUNTIME role (`DATABASE_URL`, embedded: liushou_app) is what web, worker and beat connect
  as. It owns nothing and holds only row privileges, so an SQL injection or a leaked DATABASE_URL
  cannot switch row-level security off. tenancy.E001 (tenancy/checks.py) fails otherwise.
"""
from __future__ import annotations

from contextlib import contextmanager

OWNER_ATTRIBUTES = {"rolsuper": False, "rolbypassrls": False, "rolcreatedb": True, "rolcreaterole": False,
                    "rolcanlogin": True}
RUNTIME_ATTRIBUTES = {"rolsuper": False, "rolbypassrls": False, "rolcreatedb": False, "rolcreaterole": False,
                      "rolcanlogin": True}
_KEYWORDS = {"rolsuper": "SUPERUSER", "rolbypassrls": "BYPASSRLS", "rolcreatedb": "CREATEDB",
             "rolcreaterole": "CREATEROLE", "rolcanlogin": "LOGIN"}
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
# Schemas that PostgreSQL itself owns and manages.
_USER_SCHEMA = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'"


def ident(name: str) -> str:
    """A quoted SQL identifier (role, schema or table name)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# ---------------------------------------------------------------- admin side (psycopg, a superuser)
def _attributes(expected: dict[str, bool]) -> str:
    return " ".join(("" if on else "NO") + _KEYWORDS[key] for key, on in expected.items())


def _ensure_role(conn, role: str, password: str, expected: dict[str, bool], changes: list[str]) -> None:
    row = conn.execute(
        f"SELECT {', '.join(expected)} FROM pg_roles WHERE rolname = %s", [role]).fetchone()
    if row is None:
        conn.execute(f"CREATE ROLE {ident(role)} {_attributes(expected)} PASSWORD {literal(password)}")
        changes.append(f"created role {role}")
    elif tuple(row) != tuple(expected.values()):
        # Fail closed: whatever was widened by hand is narrowed again.
        conn.execute(f"ALTER ROLE {ident(role)} {_attributes(expected)}")
        changes.append(f"role {role} set to {_attributes(expected)}")


def ensure_roles(admin_url: str, *, dbname: str, owner: str, owner_password: str, runtime: str,
                 runtime_password: str) -> list[str]:
    """Create or correct both roles and the app database, and move a single-role installation
    over. Idempotent: returns what it changed, nothing when all was in order. Passwords are set
    only when a role is created.

    A single-role installation (one role owned everything and the app connected as it): the old
    role becomes the runtime role and loses CREATEDB, and each of its objects in the app database
    is given to the owner, object by object (REASSIGN OWNED would also take every other database
    the role owns on the server); then the grants are set."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    if owner == runtime:
        raise ValueError(f"the owner and the runtime role must differ (both are {owner!r})")
    changes: list[str] = []
    with psycopg.connect(admin_url, autocommit=True) as conn:
        _ensure_role(conn, owner, owner_password, OWNER_ATTRIBUTES, changes)
        _ensure_role(conn, runtime, runtime_password, RUNTIME_ATTRIBUTES, changes)
        if conn.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [runtime, owner]).fetchone()[0]:
            conn.execute(f"REVOKE {ident(owner)} FROM {ident(runtime)}")
            changes.append(f"role {runtime} is no longer a member of {owner}")
        # The test database that an old-style run left behind is the runtime role's: the owner,
        # which creates the test database now, could not drop it.
        for name in (dbname, f"test_{dbname}"):
            row = conn.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
                               [name]).fetchone()
            if row is None and name == dbname:
                conn.execute(f"CREATE DATABASE {ident(name)} OWNER {ident(owner)} ENCODING 'UTF8' TEMPLATE template0")
                changes.append(f"created database {name}")
            elif row is not None and row[0] != owner:
                conn.execute(f"ALTER DATABASE {ident(name)} OWNER TO {ident(owner)}")
                changes.append(f"database {name}: owner {row[0]} -> {owner}")
    params = conninfo_to_dict(admin_url)
    params["dbname"] = dbname
    with psycopg.connect(make_conninfo("", **params), autocommit=True) as conn, conn.transaction():
        if conn.execute("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'"
                        ).fetchone()[0] != owner:
            conn.execute(f"ALTER SCHEMA public OWNER TO {ident(owner)}")
            changes.append(f"schema public: owner -> {owner}")
        # PostgreSQL < 15 lets every role create in `public`.
        if conn.execute("SELECT has_schema_privilege(%s, 'public', 'CREATE')", [runtime]).fetchone()[0]:
            conn.execute(f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {ident(runtime)}")
            changes.append("schema public: CREATE revoked from PUBLIC")
        moved = adopt(conn, owner=owner, previous=runtime)
        if moved:
            with conn.cursor() as cursor:
                sync_grants(cursor, owner=owner, runtime=runtime)
            changes.append(f"moved {moved} objects from {runtime} to {owner} and granted {runtime} its privileges")
    return changes


def adopt(conn, *, owner: str, previous: str) -> int:
    """Give every object in the connected database that `previous` owns to `owner`, as a superuser.
    Indexes, identity and serial sequences follow their table. Raises if anything is left."""
    rows = conn.execute(f"""
        SELECT 'SCHEMA', quote_ident(n.nspname) FROM pg_namespace n
         WHERE n.nspowner = (SELECT oid FROM pg_roles WHERE rolname = %(prev)s) AND {_USER_SCHEMA}
        UNION ALL
        SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                              WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'c' THEN 'TYPE' ELSE 'TABLE' END,
               quote_ident(n.nspname) || '.' || quote_ident(c.relname)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relowner = (SELECT oid FROM pg_roles WHERE rolname = %(prev)s) AND {_USER_SCHEMA}
           AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                           AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
        UNION ALL
        SELECT 'ROUTINE', p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE p.proowner = (SELECT oid FROM pg_roles WHERE rolname = %(prev)s) AND {_USER_SCHEMA}
        UNION ALL
        SELECT 'TYPE', quote_ident(n.nspname) || '.' || quote_ident(t.typname)
          FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE t.typowner = (SELECT oid FROM pg_roles WHERE rolname = %(prev)s) AND {_USER_SCHEMA}
           AND t.typtype IN ('d', 'e', 'r')
        ORDER BY 1, 2""", {"prev": previous}).fetchall()
    for kind, name in rows:
        conn.execute(f"ALTER {kind} {name} OWNER TO {ident(owner)}")
    left = conn.execute(
        "SELECT classid::regclass::text, count(*) FROM pg_shdepend WHERE deptype = 'o' "
        "AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND refclassid = 'pg_authid'::regclass AND refobjid = (SELECT oid FROM pg_roles WHERE rolname = %s) "
        "AND classid <> 'pg_default_acl'::regclass "  # default privileges stay with whoever set them
        "GROUP BY 1", [previous]).fetchall()
    if left:
        kinds = ", ".join(f"{n} in {cls}" for cls, n in left)
        raise RuntimeError(f"role {previous} still owns objects in this database ({kinds}); give them to "
                           f"{owner} by hand (ALTER ... OWNER TO), then run this again.")
    return len(rows)


# ---------------------------------------------------------------- grants (as the owner or a superuser)
def default_privileges(cursor, *, owner: str, runtime: str) -> None:
    """What the owner creates in `public` from now on is usable by the runtime role."""
    o, r = ident(owner), ident(runtime)
    cursor.execute(f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA public "
                   f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {r}")
    cursor.execute(f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {r}")


def sync_grants(cursor, *, owner: str, runtime: str) -> None:
    """The runtime role's privileges on everything in `public`, exactly: on each table, those of
    SELECT/INSERT/UPDATE/DELETE that the owner itself holds (and USAGE/SELECT on sequences). A
    table a migration makes append-only by revoking UPDATE and DELETE from its owner (the access
    log) is then append-only for the runtime role too, with no list to keep in step. Runs after
    every migrate; default privileges cover tables created in between."""
    r = ident(runtime)
    default_privileges(cursor, owner=owner, runtime=runtime)
    for statement in (
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {r}",
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {r}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}",
        f"REVOKE UPDATE ON ALL SEQUENCES IN SCHEMA public FROM {r}",
    ):
        cursor.execute(statement)
    cursor.execute(
        "SELECT quote_ident(c.relname), p FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, "
        "unnest(%s::text[]) p WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
        "AND NOT has_table_privilege(%s, c.oid, p) ORDER BY 1, 2", [list(TABLE_PRIVILEGES), owner])
    for table, privilege in cursor.fetchall():
        cursor.execute(f"REVOKE {privilege} ON public.{table} FROM {r}")


# ---------------------------------------------------------------- Django side
def owner_credentials() -> dict | None:
    """{"USER", "PASSWORD"} of the owner role (settings.DATABASE_OWNER), or None."""
    from django.conf import settings

    return getattr(settings, "DATABASE_OWNER", None)


def role_names(using: str = "default") -> tuple[str, str]:
    """(owner, runtime); ImproperlyConfigured when there is no owner role, or it is the runtime role."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    creds = owner_credentials()
    runtime = settings.DATABASES[using]["USER"]
    if not creds:
        raise ImproperlyConfigured(
            "No owner role configured: set DATABASE_OWNER_URL (the role that owns the schema and runs the "
            "migrations; README, Database roles). The app's runtime role must not own the tables.")
    if creds["USER"] == runtime:
        raise ImproperlyConfigured(
            f"DATABASE_URL and DATABASE_OWNER_URL both name role {runtime!r}: the app must connect as a "
            "role that owns nothing (README, Database roles).")
    return creds["USER"], runtime


def check_command(using: str = "default") -> None:
    """role_names' refusal as a management command's one-line error (migrate, flush)."""
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management.base import CommandError

    try:
        role_names(using)
    except ImproperlyConfigured as exc:
        raise CommandError(str(exc)) from None


@contextmanager
def as_owner(using: str = "default"):
    """Run the block with the connection `using` logged in as the owner role; yields
    (owner, runtime) role names. The connection is closed on the way in and out (a role cannot be
    switched inside a transaction), and only its USER and PASSWORD change: the database stays the
    one it names (the test database under pytest). Nested use is a no-op."""
    from django.db import connections

    owner, runtime = role_names(using)
    creds = owner_credentials()
    conn = connections[using]
    if conn.settings_dict["USER"] == owner:
        yield owner, runtime
        return
    if conn.in_atomic_block:
        raise RuntimeError("cannot switch to the owner role inside a transaction")
    original = conn.settings_dict
    conn.close()
    # A copy, not the shared dict: other threads' connections keep the runtime role.
    conn.settings_dict = {**original, "USER": owner, "PASSWORD": creds["PASSWORD"]}
    try:
        yield owner, runtime
    finally:
        conn.close()
        # The database name may have changed in the block (test database set-up): keep it.
        original["NAME"] = conn.settings_dict["NAME"]
        conn.settings_dict = original

