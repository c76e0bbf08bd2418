"""Routing to the read replica (tenancy.replica): writes and migrations always go to the primary;
ORM reads go to the alias of the enclosing `replica_reads()` block, the primary everywhere else.

The alias lives in a context variable here, in the settings' package, because Django imports the
router early and tenancy.scoping applies the tenant scope to whichever alias is reading.
"""
from __future__ import annotations

from contextvars import ContextVar

PRIMARY = "default"
REPLICA = "replica"

# The alias ORM reads (and raw SQL that asks) use: "replica" inside a replica_reads() block.
READ_ALIAS: ContextVar[str] = ContextVar("read_alias", default=PRIMARY)


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        return READ_ALIAS.get()

    def db_for_write(self, model, **hints) -> str:
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        # Both aliases are one database: a row read on the standby relates to one on the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        return False if db == REPLICA else None
