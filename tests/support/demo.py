"""The real demo district (`manage.py seed_demo`), seeded once for a test module.

Seeding takes a while, so a module seeds it once inside a transaction that is rolled back at the
module's end; each test's own transaction (the `db` fixture) nests inside it as a savepoint.
"""
from __future__ import annotations

import io
from contextlib import contextmanager

from django.apps import apps
from django.core.cache import caches
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from django.test import override_settings


def reset_sequences() -> None:
    """Every id sequence restarts just above the table's largest id, so the seeded ids do not depend
    on which tests ran before (sequences are not rolled back with the tests' transactions).

    setval needs UPDATE on the sequences, which the runtime role the tests connect as does not hold
    (config/db_roles.py): the owner runs it on a connection of its own. setval is never rolled back
    anyway, so doing it outside the test's transaction changes nothing."""
    import psycopg

    from tests.support.db import owner_database_url

    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True))
    with psycopg.connect(owner_database_url(connection.settings_dict), autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)


def seed_demo() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@contextmanager
def seeded_demo(django_db_blocker, media_root: str):
    """Use from a module-scoped fixture: the demo is in the database until the block ends."""
    media = override_settings(MEDIA_ROOT=media_root)
    media.enable()
    with django_db_blocker.unblock():
        for cache in caches.all():
            cache.clear()
        outer = transaction.atomic()
        outer.__enter__()
        outer._from_testcase = True  # lets the services' durable blocks nest here as in a TestCase
        try:
            reset_sequences()
            seed_demo()
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            for cache in caches.all():
                cache.clear()
    media.disable()
