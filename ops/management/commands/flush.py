"""Django's `flush` (TRUNCATE every table, then post_migrate), run as the OWNER role.

TRUNCATE and the RLS policies' re-application need the tables' owner; the runtime role the app
connects as has neither right (config/db_roles.py). Transactional tests flush after each test.
"""
from django.core.management.commands import flush

from config import db_roles


class Command(flush.Command):
    def handle(self, **options):
        db_roles.check_command(options["database"])
        with db_roles.as_owner(options["database"]):
            super().handle(**options)
