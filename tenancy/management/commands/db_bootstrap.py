"""Create the application's non-privileged database role and database from an admin URL.

Used by `.ci/run` and deployments: DATABASE_ADMIN_URL is a superuser connection, DATABASE_URL
names the app role (NOSUPERUSER NOBYPASSRLS) that the platform connects as.
"""
from urllib.parse import unquote, urlparse

from django.core.management.base import BaseCommand, CommandError

from config.embedded_db import ensure_app_role


class Command(BaseCommand):
    help = "Create the app database role and database (idempotent)."
    requires_system_checks = []

    def handle(self, *args, **options):
        import os

        admin_url = os.environ.get("DATABASE_ADMIN_URL")
        app_url = os.environ.get("DATABASE_URL")
        if not admin_url or not app_url:
            raise CommandError("Set DATABASE_ADMIN_URL (a superuser) and DATABASE_URL (the app role).")
        parsed = urlparse(app_url)
        role, password, dbname = unquote(parsed.username or ""), unquote(parsed.password or ""), parsed.path.lstrip("/")
        if not role or not dbname:
            raise CommandError("DATABASE_URL must name a user and a database.")
        ensure_app_role(admin_url, role, password, dbname)
        self.stdout.write(self.style.SUCCESS(f"role {role} and database {dbname} are ready"))
