"""Reads from the streaming hot standby (the `replica` alias), with read-your-own-writes.

`replica_reads(reason=...)` wraps a heavy read (the bureau's ranking, heatmap, matrix, exports,
compile figures, audit figures). Inside it the router (config.db_router) sends ORM reads to the
alias it yields, and raw SQL uses `connections[alias]` (or `read_connection()`). The replica's
transaction is read-only and holds the same tenant scope as the primary's (tenancy.scoping applies
every nested scope to both), so row-level security filters the same rows on either server.

Read-your-own-writes: when a request commits writes, the primary's WAL position after the commit is
remembered (in the cache) for its user and for each school of its scope. A block reads the replica
only when the replica has replayed the highest position remembered for the reader and the reader's
schools, and when the reader's own transaction on the primary has written nothing yet; otherwise,
and when there is no replica or it does not answer, it reads the primary. A school therefore never
misses its own write, whichever of its users made it.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connections, transaction

from config.db_router import PRIMARY, READ_ALIAS, REPLICA

from .scoping import apply_current_scope, current_school_ids

log = logging.getLogger("tenancy.replica")

@dataclass
class _Reader:
    """The request's user and its own schools (not a widened system scope's), and whether the
    request's transaction wrote."""
    user_id: int | None
    school_ids: tuple[int, ...]
    wrote: bool = False


_reader: ContextVar[_Reader | None] = ContextVar("replica_reader", default=None)
# After a failed connection the replica is left alone for a while (per process), so an unreachable
# standby does not cost every request a connect timeout.
_DOWN_SECONDS = 30.0
_down_until = 0.0

# The replica's transaction is read-only even if the alias were pointed at a primary by mistake.
_FRESH_SQL = ("SELECT pg_last_wal_replay_lsn() IS NOT NULL AND pg_last_wal_replay_lsn() >= %s::pg_lsn,"
              " pg_last_wal_replay_lsn()::text, set_config('transaction_read_only', 'on', true)")
# The replay position the open replica block reads at (None: the primary reads).
_position: ContextVar[int | None] = ContextVar("replica_position", default=None)


def has_replica() -> bool:
    """A replica alias is configured and reads are routed to it."""
    return REPLICA in settings.DATABASES and bool(getattr(settings, "REPLICA_READS", True))


def read_alias() -> str:
    """The alias reads use here: the enclosing replica_reads() block's, else the primary."""
    return READ_ALIAS.get()


def read_connection():
    """The connection raw SQL reads with (see read_alias)."""
    return connections[READ_ALIAS.get()]


# --------------------------------------------------------------------------- who wrote
def _user_key(user_id: int) -> str:
    return f"replica:lsn:user:{user_id}"


def _school_key(school_id: int) -> str:
    return f"replica:lsn:school:{school_id}"


def _lsn_int(lsn: str) -> int:
    high, low = lsn.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def _lsn_text(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


@contextmanager
def reading_as(user_id: int | None, school_ids: Iterable[int]) -> Iterator[None]:
    """The request's reader (TenantScopeMiddleware, inside the request's transaction): whose
    writes a replica read must include. Call note_writes() at the end of the transaction."""
    reader = _Reader(user_id, tuple(school_ids))
    if has_replica():
        # Registered first, so it runs before the request's other on-commit work (a job published
        # to a worker that reads the replica must find the position already remembered).
        transaction.on_commit(lambda: _after_commit(reader), using=PRIMARY)
    token = _reader.set(reader)
    try:
        yield
    finally:
        _reader.reset(token)


def _after_commit(reader: _Reader) -> None:
    if reader.wrote:
        remember_writes(reader.user_id, reader.school_ids)


def note_writes() -> None:
    """At the end of the request's transaction on the primary: whether it wrote, so that after its
    commit the WAL position is remembered for the reader and the reader's schools. One cheap query
    per request, and only when a replica is routed to."""
    reader = _reader.get()
    if reader is None or not has_replica():
        return
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
        reader.wrote = bool(cursor.fetchone()[0])


def remember_writes(user_id: int | None, school_ids: Iterable[int]) -> None:
    """Remember the primary's current WAL position (after a commit) for this user and schools."""
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        lsn = _lsn_int(cursor.fetchone()[0])
    keys = [_school_key(s) for s in school_ids] + ([_user_key(user_id)] if user_id is not None else [])
    # Never lower a position another writer stored meanwhile (the cache has no atomic max; a lower
    # one only ever lands in the instant between this read and write).
    known = cache.get_many(keys)
    cache.set_many({k: lsn for k in keys if known.get(k, -1) < lsn},
                   timeout=settings.REPLICA_WRITE_MEMORY_SECONDS)


def _required_lsn() -> int:
    reader = _reader.get()
    user_id, school_ids = (reader.user_id, reader.school_ids) if reader else (None, current_school_ids() or ())
    keys = [_school_key(s) for s in school_ids] + ([_user_key(user_id)] if user_id is not None else [])
    return max(cache.get_many(keys).values(), default=0) if keys else 0


def _primary_wrote() -> bool:
    # The reader's own open transaction on the primary has written: the replica cannot show it.
    primary = connections[PRIMARY]
    if not primary.in_atomic_block:
        return False
    with primary.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
        return bool(cursor.fetchone()[0])


# --------------------------------------------------------------------------- reading
def _open_replica(required: int, reason: str) -> tuple[transaction.Atomic, int] | None:
    """The replica's entered read-only transaction holding the current scope, or None when the
    replica has not replayed `required` or does not answer (then the primary reads)."""
    global _down_until
    atomic = transaction.atomic(using=REPLICA)
    try:
        atomic.__enter__()
    except DatabaseError as exc:
        _down_until = time.monotonic() + _DOWN_SECONDS
        log.warning("replica unreachable, reading %s on the primary: %s", reason, exc)
        return None
    try:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(_FRESH_SQL, [_lsn_text(required)])
            fresh, replayed, _read_only = cursor.fetchone()
        if fresh:
            apply_current_scope(REPLICA)
            return atomic, _lsn_int(replayed)
        log.debug("replica behind this reader's writes, reading %s on the primary", reason)
        atomic.__exit__(None, None, None)
    except DatabaseError as exc:
        _down_until = time.monotonic() + _DOWN_SECONDS
        log.warning("replica failed, reading %s on the primary: %s", reason, exc)
        try:
            atomic.__exit__(type(exc), exc, exc.__traceback__)
        except DatabaseError:
            pass
        connections[REPLICA].close()
    return None


@contextmanager
def replica_reads(*, reason: str) -> Iterator[str]:
    """Run a heavy read on the replica when it is fresh enough for this reader; yields the alias
    used ("replica" or "default"). `reason` names the read in the logs."""
    if READ_ALIAS.get() != PRIMARY:  # nested: the outer block decided
        yield READ_ALIAS.get()
        return
    if not has_replica() or time.monotonic() < _down_until or _primary_wrote():
        yield PRIMARY
        return
    opened = _open_replica(_required_lsn(), reason)
    if opened is None:
        yield PRIMARY
        return
    atomic, replayed = opened
    token, position = READ_ALIAS.set(REPLICA), _position.set(replayed)
    try:
        yield REPLICA
    except BaseException as exc:
        READ_ALIAS.reset(token)
        _position.reset(position)
        atomic.__exit__(type(exc), exc, exc.__traceback__)
        raise
    READ_ALIAS.reset(token)
    _position.reset(position)
    atomic.__exit__(None, None, None)


def read_position() -> int | None:
    """The WAL position the enclosing replica block reads at; None on the primary. A result cached
    from a replica read stores it, so a later reader whose writes it misses recomputes."""
    return _position.get()


def covers(position: int | None) -> bool:
    """Whether a result read at `position` (read_position()) includes this reader's own writes."""
    return position is None or position >= _required_lsn()
