"""Entering a tenant scope: django-scopes for the ORM and transaction-local PostgreSQL settings for
row-level security, on two dimensions: schools (`app.school_ids`) and districts
(`app.district_ids`). Both fail closed: no scope means no rows.

A scope may only narrow: a tenant_scope inside another one asking for a school or district the
outer one does not hold raises ScopeWidening. The one way to widen is `system_scope(reason)`,
which names why (and logs it), so every widening can be found with one grep.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import DatabaseError, connection, connections, models, transaction
from django_scopes import scope

from config.db_router import PRIMARY, READ_ALIAS

from .models import District, DistrictOwnedChild, DistrictOwnedModel, School, district_path

SETTING = "app.school_ids"
DISTRICT_SETTING = "app.district_ids"

log = logging.getLogger("tenancy.scoping")


class ScopeWidening(RuntimeError):
    """A nested tenant_scope asked for ids its enclosing scope does not hold."""


@dataclass(frozen=True)
class Scope:
    school_ids: tuple[int, ...]
    # The explicit districts plus those of the schools: a school's users read their district's
    # calendar, checklists and assessments.
    district_ids: tuple[int, ...]


# The scope in force for the current context, so a nested scope can restore its parent's.
_current: ContextVar[Scope | None] = ContextVar("tenant_scope", default=None)

# One statement sets both settings and returns the district ids it derived, so entering a scope
# costs one query as before. tenancy_school is not row-secured, so the lookup sees every school.
_ENTER_SQL = """
SELECT set_config(%s, %s, true),
       set_config(%s, coalesce((
           SELECT string_agg(d::text, ',' ORDER BY d) FROM (
               SELECT district_id AS d FROM tenancy_school WHERE id = ANY(%s::bigint[])
               UNION SELECT unnest(%s::bigint[])
           ) AS ids), ''), true)
"""


def _ids(values: Iterable[int] | None) -> tuple[int, ...]:
    return tuple(sorted({int(i) for i in values or ()}))


def _join(ids: tuple[int, ...]) -> str:
    return ",".join(str(i) for i in ids)


def _runs(ids: tuple[int, ...]) -> str:
    """Sorted ids as runs, "3,7-12,15": the form app.school_ids takes (tenancy.rls). A district's
    schools mostly have consecutive ids, so its scope is a few runs, cheap for the policy to read."""
    out: list[str] = []
    start = prev = None
    for i in ids:
        if prev is not None and i == prev + 1:
            prev = i
            continue
        if start is not None:
            out.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = i
    if start is not None:
        out.append(str(start) if start == prev else f"{start}-{prev}")
    return ",".join(out)


def _set_on(alias: str, school_ids: tuple[int, ...], district_ids: tuple[int, ...]) -> None:
    with connections[alias].cursor() as cursor:
        # is_local=true: the values end with the transaction, so pooled connections never leak them.
        cursor.execute("SELECT set_config(%s, %s, true), set_config(%s, %s, true)",
                       [SETTING, _runs(school_ids), DISTRICT_SETTING, _join(district_ids)])


def _set_read_alias(entered: Scope | None) -> None:
    # Inside a replica_reads() block the replica's read-only transaction holds the same scope as the
    # primary's, so a nested (narrower or system) scope reads the same rows on either server.
    alias = READ_ALIAS.get()
    if alias != PRIMARY:
        _set_on(alias, *((entered.school_ids, entered.district_ids) if entered else ((), ())))


def apply_current_scope(alias: str) -> None:
    """Give `alias`'s open transaction the scope in force (none: no rows), as on the primary."""
    current = _current.get()
    _set_on(alias, *((current.school_ids, current.district_ids) if current else ((), ())))


def _set_db(school_ids: tuple[int, ...], district_ids: tuple[int, ...]) -> None:
    _set_on(PRIMARY, school_ids, district_ids)


def _enter_db(school_ids: tuple[int, ...], district_ids: tuple[int, ...]) -> Scope:
    if not school_ids:  # no school whose district to look up (e.g. an anonymous request)
        _set_db(school_ids, district_ids)
        entered = Scope(school_ids, district_ids)
    else:
        with connection.cursor() as cursor:
            cursor.execute(_ENTER_SQL, [SETTING, _runs(school_ids), DISTRICT_SETTING, list(school_ids),
                                        list(district_ids)])
            derived = cursor.fetchone()[1]
        entered = Scope(school_ids, _ids(derived.split(",")) if derived else ())
    _set_read_alias(entered)
    return entered


def _restore_db(previous: Scope | None) -> None:
    _set_db(*((previous.school_ids, previous.district_ids) if previous else ((), ())))
    _set_read_alias(previous)


def current_school_ids() -> tuple[int, ...] | None:
    current = _current.get()
    return None if current is None else current.school_ids


@contextmanager
def _enter(school_ids: tuple[int, ...], district_ids: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    previous = _current.get()
    # Outermost: the settings are transaction-local and end with this block's commit or rollback,
    # so resetting them on the way out would be a wasted query per request.
    outermost = previous is None and not connection.in_atomic_block and connection.get_autocommit()
    with transaction.atomic():
        entered = _enter_db(school_ids, district_ids)
        token = _current.set(entered)
        try:
            with scope(school=list(entered.school_ids), district=list(entered.district_ids)):
                yield entered.school_ids
            # Reset explicitly: inside a wrapping transaction (tests, nested scopes) a local
            # setting would otherwise outlive this block and hide a missing scope.
            # On an exception the atomic block rolls back, which undoes the settings too.
            if not outermost and not transaction.get_rollback():
                _restore_db(previous)
            else:
                _set_read_alias(previous)
        except BaseException:
            # The primary's settings roll back with the atomic block; the replica's do not.
            try:
                _set_read_alias(previous)
            except DatabaseError:
                pass  # the replica's transaction is broken and ends with its block
            raise
        finally:
            _current.reset(token)


@contextmanager
def tenant_scope(school_ids: Iterable[int] = (), *, district_ids: Iterable[int] = ()) -> Iterator[tuple[int, ...]]:
    """Run the block with exactly these schools visible, and these districts plus the schools'
    own districts, in one transaction.

    A bureau user's scope is its subtree's ids: an explicit scope, never a bypass. Inside another
    scope (a request's, a task's) this may only narrow: asking for anything the enclosing scope
    does not hold raises ScopeWidening; a job that must widen uses system_scope(reason).
    """
    schools, districts = _ids(school_ids), _ids(district_ids)
    parent = _current.get()
    if parent is not None:
        wider_schools = set(schools) - set(parent.school_ids)
        wider_districts = set(districts) - set(parent.district_ids)
        if wider_schools or wider_districts:
            raise ScopeWidening(
                f"tenant_scope may only narrow the enclosing scope: schools {sorted(wider_schools)} and districts "
                f"{sorted(wider_districts)} are outside it (a job that must widen uses system_scope(reason))."
            )
    with _enter(schools, districts) as ids:
        yield ids


@contextmanager
def system_scope(reason: str, *, school_ids: Iterable[int] | None = None,
                 district_ids: Iterable[int] | None = None) -> Iterator[tuple[int, ...]]:
    """The one way to widen a scope, for work the system does on behalf of several tenants (the
    access log of the school an action touched, a district-wide ranking shown to a township, a
    bureau role logged on every school of its district, a beat job over every district).

    With neither ids argument, every school and every district; otherwise exactly the ids given
    (plus the schools' districts). `reason` says why, and is logged, so each widening is visible
    in the logs and greppable in the code. Nested tenant_scopes narrow it as usual.
    """
    if not reason or not reason.strip():
        raise ValueError("system_scope needs a reason.")
    if school_ids is None and district_ids is None:
        schools, districts = _ids(system_school_ids()), _ids(_system_district_ids())
    else:
        schools, districts = _ids(school_ids), _ids(district_ids)
    parent = _current.get()
    log.debug("system scope: %s (schools=%d districts=%d, inside a scope: %s)", reason, len(schools),
              len(districts), parent is not None)
    with _enter(schools, districts) as ids:
        yield ids


@contextmanager
def district_scope(owner) -> Iterator[int]:
    """Work on one district's rows. `owner` is a district (or its id), a school, or a
    district-owned row. Yields the district id.

    Inside a scope (a request's) this only checks that the scope holds the district (else
    ScopeWidening) and keeps that scope: whatever the user may not see stays hidden. Outside any
    scope (a Celery task, a management command, a test calling a service) it enters the district
    and its schools: the entry point of work done for that one district, as a task enters the
    scope of the ids it was given.
    """
    district_id = owning_district_id(owner)
    parent = _current.get()
    if parent is not None:
        if district_id not in parent.district_ids:
            raise ScopeWidening(f"district {district_id} is outside the enclosing scope.")
        yield district_id
        return
    schools = School.objects.filter(district_id=district_id).values_list("id", flat=True)
    with tenant_scope(list(schools), district_ids=[district_id]):
        yield district_id


def in_district_scope(argument: str):
    """Decorator for a service that acts for one district: runs it in district_scope() of its
    keyword argument `argument` (a district, a school or a district-owned row)."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with district_scope(kwargs[argument]):
                return fn(*args, **kwargs)

        return wrapper

    return decorate


def owning_district_id(owner) -> int:
    """The id of the district that owns `owner` (see district_scope). A row below a district-owned
    parent is followed up through its cached parents, else one query: in the current scope, or,
    outside any scope, under a system scope named for that lookup."""
    if isinstance(owner, int):
        return owner
    if isinstance(owner, District):
        return owner.pk
    if isinstance(owner, (School, DistrictOwnedModel)):
        return owner.district_id
    if not isinstance(owner, DistrictOwnedChild):
        raise TypeError(f"{type(owner).__name__} belongs to no district.")
    field = owner._meta.get_field(owner.district_parent)
    if not isinstance(field, models.ForeignKey):
        raise TypeError(f"{owner._meta.label}.district_parent must name a foreign key.")
    if field.is_cached(owner):
        return owning_district_id(field.get_cached_value(owner))
    found = district_id_of_row(field.related_model, getattr(owner, field.attname))
    if found is None:
        raise ScopeWidening(f"{owner._meta.label} {owner.pk} is outside the enclosing scope.")
    return found


def district_id_of_row(model, pk) -> int | None:
    """The id of the district owning row `pk` of a district-owned model, for a job that was given
    only the row's id: read in the current scope, or, outside any scope, under a system scope
    named for this one lookup. None when there is no such row (or the scope does not hold it)."""
    rows = model._base_manager.filter(pk=pk).values_list(district_path(model), flat=True)
    if _current.get() is not None:
        return rows.first()
    with system_scope(f"find the district owning {model._meta.label} {pk}", district_ids=_system_district_ids()):
        return rows.first()


def system_school_ids() -> list[int]:
    """All school ids. Production code reaches them only through system_scope() (a test checks
    that), so a job over every tenant is always named."""
    return list(School.objects.values_list("id", flat=True))


def _system_district_ids() -> list[int]:
    return list(District.objects.values_list("id", flat=True))
