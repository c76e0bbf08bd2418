"""Django's `migrate`, run as the OWNER role, then the runtime role's grants (config/db_roles.py).

The system checks run first, as Django's do, on the app's own connection. Then the connection
switches to DATABASE_OWNER_URL's credentials, default privileges are set (so the tables of a run
that fails half-way are usable too), Django migrates (the RLS policies are applied in
post_migrate, as the tables' owner), and every table's grants are synced.
`make run` (run_platform), the container entrypoint and pytest's test database all migrate here.
"""
from django.core.management.commands import migrate
from django.db import connections

from config import db_roles


class Command(migrate.Command):
    help = migrate.Command.help + " Runs as the owner role (DATABASE_OWNER_URL)."

    def handle(self, *args, **options):
        database = options["database"]
        db_roles.check_command(database)
        if not options["skip_checks"]:
            self.check(databases=[database])
        with db_roles.as_owner(database) as (owner, runtime):
            with connections[database].cursor() as cursor:
                db_roles.default_privileges(cursor, owner=owner, runtime=runtime)
            super().handle(*args, **{**options, "skip_checks": True})
            with connections[database].cursor() as cursor:
                db_roles.sync_grants(cursor, owner=owner, runtime=runtime)
