"""System checks that keep tenancy fail-closed."""
from __future__ import annotations

from django.core.checks import Error, Tags, register
from django.db import connection


@register(Tags.database, deploy=True)
def app_role_cannot_bypass_rls(app_configs=None, databases=None, **kwargs):
    """The application's database role must be subject to row-level security."""
    if databases is None or "default" not in databases:
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    if row and (row[0] or row[1]):
        return [Error(
            "The database role bypasses row-level security (superuser or BYPASSRLS).",
            hint="Connect as a role created with NOSUPERUSER NOBYPASSRLS (see manage.py db_bootstrap).",
            id="tenancy.E001",
        )]
    return []
