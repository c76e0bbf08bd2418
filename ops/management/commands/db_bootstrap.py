"""Create the app's two database roles and its database from an admin URL, or move an existing
single-role installation over to them (config/db_roles.py), idempotently.

Used by `.ci/run`, `make run` (when DATABASE_ADMIN_URL is set) and the container entrypoint:
DATABASE_ADMIN_URL is a superuser connection; DATABASE_OWNER_URL names the owner role (owns the
schema, runs the migrations) and DATABASE_URL the runtime role the platform connects as. Both URLs
name the same database.
"""
import os
from urllib.parse import unquote, urlparse

from django.core.management.base import BaseCommand, CommandError

from config.db_roles import ensure_roles


def _parts(url: str, name: str) -> tuple[str, str, str]:
    parsed = urlparse(url)
    role, password, dbname = unquote(parsed.username or ""), unquote(parsed.password or ""), parsed.path.lstrip("/")
    if not role or not dbname:
        raise CommandError(f"{name} must name a user and a database.")
    return role, password, dbname


class Command(BaseCommand):
    help = "Create the owner and runtime database roles and the database, or move a single-role one over (idempotent)."
    requires_system_checks = []

    def handle(self, *args, **options):
        admin_url = os.environ.get("DATABASE_ADMIN_URL")
        app_url = os.environ.get("DATABASE_URL")
        owner_url = os.environ.get("DATABASE_OWNER_URL")
        if not admin_url or not app_url or not owner_url:
            raise CommandError("Set DATABASE_ADMIN_URL (a superuser), DATABASE_OWNER_URL (the owner role, which "
                               "migrates) and DATABASE_URL (the runtime role the app connects as).")
        runtime, runtime_password, dbname = _parts(app_url, "DATABASE_URL")
        owner, owner_password, owner_db = _parts(owner_url, "DATABASE_OWNER_URL")
        if owner_db != dbname:
            raise CommandError(f"DATABASE_OWNER_URL names database {owner_db!r}, DATABASE_URL {dbname!r}: "
                               "they must name the same one.")
        if owner == runtime:
            raise CommandError(f"DATABASE_URL and DATABASE_OWNER_URL both name role {runtime!r}: the app must "
                               "connect as a role that owns nothing.")
        try:
            changes = ensure_roles(admin_url, dbname=dbname, owner=owner, owner_password=owner_password,
                                   runtime=runtime, runtime_password=runtime_password)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        for change in changes:
            self.stdout.write(f"  {change}")
        self.stdout.write(self.style.SUCCESS(
            f"roles {owner} (owner) and {runtime} (runtime) and database {dbname} are ready"))
