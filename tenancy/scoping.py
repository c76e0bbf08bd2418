"""Entering a tenant scope: django-scopes for the ORM and a transaction-local PostgreSQL
setting for row-level security. Both fail closed: no scope means no rows.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterable, Iterator

from django.db import connection, transaction
from django_scopes import scope

SETTING = "app.school_ids"

# The ids in force for the current context, so a nested scope can restore its parent's.
_current_ids: ContextVar[tuple[int, ...] | None] = ContextVar("tenant_school_ids", default=None)


def _set_db_setting(ids: tuple[int, ...] | None) -> None:
    value = ",".join(str(i) for i in ids) if ids else ""
    with connection.cursor() as cursor:
        # is_local=true: the value ends with the transaction, so pooled connections never leak it.
        cursor.execute("SELECT set_config(%s, %s, true)", [SETTING, value])


def current_school_ids() -> tuple[int, ...] | None:
    return _current_ids.get()


@contextmanager
def tenant_scope(school_ids: Iterable[int]) -> Iterator[tuple[int, ...]]:
    """Run the block with exactly these schools visible, in one transaction.

    A bureau user's scope is its subtree's ids: an explicit scope, never a bypass.
    """
    ids = tuple(sorted({int(i) for i in school_ids}))
    previous = _current_ids.get()
    token = _current_ids.set(ids)
    try:
        with scope(school=list(ids)), transaction.atomic():
            _set_db_setting(ids)
            yield ids
            # Reset explicitly: inside a wrapping transaction (tests, nested scopes) a local
            # setting would otherwise outlive this block and hide a missing scope.
            # On an exception the atomic block rolls back, which undoes the setting too.
            if not transaction.get_rollback():
                _set_db_setting(previous)
    finally:
        _current_ids.reset(token)


def system_school_ids() -> list[int]:
    """All school ids, for system jobs (purges, scheduled exports) that act on every tenant.

    Callers must narrow this to the ids their job names; it is explicit so it can be grepped.
    """
    from .models import School

    return list(School.objects.values_list("id", flat=True))
