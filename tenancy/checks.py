"""System checks that keep tenancy fail-closed."""
from __future__ import annotations

from django.core.checks import Error, Tags, register
from django.db import connection

# What the connected role owns, or could act as the owner of (a member of the owning role, with or
# without inheriting its rights, can ALTER TABLE ... NO FORCE ROW LEVEL SECURITY). `public` is
# owned by pg_database_owner on PostgreSQL 15+: the database's owner is a member of it.
_OWNED = """
SELECT 'database ' || datname FROM pg_database
 WHERE datname = current_database() AND pg_has_role(current_user, datdba, 'MEMBER')
UNION ALL
SELECT 'schema ' || n.nspname FROM pg_namespace n
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
   AND pg_has_role(current_user, n.nspowner, 'MEMBER')
UNION ALL
SELECT 'table ' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND pg_has_role(current_user, c.relowner, 'MEMBER')
"""


@register(Tags.database, deploy=True)
def app_role_cannot_bypass_rls(app_configs=None, databases=None, **kwargs):
    """The role the application connects as must be bound by row-level security, and unable to
    switch it off: no superuser, BYPASSRLS or CREATEROLE (which can grant itself any role), and it
    owns nothing, nor is it a member of a role that does (config/db_roles.py)."""
    if databases is None or "default" not in databases:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper, rolbypassrls, rolcreaterole FROM pg_roles "
                       "WHERE rolname = current_user")
        row = cursor.fetchone()
        cursor.execute(_OWNED, [])
        owned = [r[0] for r in cursor.fetchall()]
    errors = []
    if row and (row[1] or row[2] or row[3]):
        errors.append(Error(
            f"The database role {row[0]} bypasses row-level security or can make itself any role "
            "(superuser, BYPASSRLS or CREATEROLE).",
            hint="Connect as a role created with NOSUPERUSER NOBYPASSRLS NOCREATEROLE (see manage.py db_bootstrap).",
            id="tenancy.E001",
        ))
    if owned:
        shown = ", ".join(owned[:5]) + (f" and {len(owned) - 5} more" if len(owned) > 5 else "")
        errors.append(Error(
            f"The database role {row[0] if row else '?'} can switch row-level security off: it owns, or is a "
            f"member of the role that owns, {shown}.",
            hint="The app must connect as a runtime role that owns nothing; the owner role (DATABASE_OWNER_URL) "
                 "owns the schema and runs the migrations. Move an existing installation over with "
                 "`manage.py db_bootstrap` (README, Database roles).",
            id="tenancy.E001",
        ))
    return errors
