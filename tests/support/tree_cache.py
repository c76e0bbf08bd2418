"""The `tree` fixture's rows, built once per test process and replayed into later tests.

The tree goes through the real services (users, memberships, guardian rows, access-log rows):
about 470 queries, which made it most of a short test's time. The first test of a process builds
it that way and records every row the build added; later tests insert those rows again with
plain INSERTs inside their own transaction, so each test still starts from the same fresh tree
and rolls it back as before. If the build changed or removed a row that existed before it, the
rows cannot be replayed faithfully and every test builds the tree through the services. When the
migrations' rows the recording points at were replaced (a transactional test's flush), the next
test records the tree again.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from django.core.cache import caches
from django.db import connection, transaction
from psycopg.types.json import Json, Jsonb

from tenancy.models import District, School
from tenancy.scoping import DISTRICT_SETTING, SETTING, system_scope
from tests.support.db import owner_database_url

JSON_OIDS = {114: Json, 3802: Jsonb}


@dataclass
class Table:
    columns: list[str]
    wrappers: list
    rows: list[tuple] = field(default_factory=list)


@dataclass
class Recording:
    tables: dict[str, Table]
    school_ids: list[int]
    district_ids: list[int]
    pks: dict[str, int]  # Tree attribute -> primary key
    kinds: dict[str, type]  # Tree attribute -> model
    baseline: tuple  # the rows the recorded ones point at, see _baseline()


# Rows made by migrations that the tree's rows refer to (guardian's permission ids). A transactional
# test's flush empties these tables and post_migrate refills them with new ids: then the recording
# points at ids that are gone, and the tree is recorded again.
BASELINE_TABLES = ("auth_permission", "django_content_type")


def _baseline() -> tuple:
    with connection.cursor() as cursor:
        out = []
        for table in BASELINE_TABLES:
            cursor.execute(f'SELECT count(*), min(id), max(id) FROM "{table}"')  # noqa: S608
            out.append(cursor.fetchone())
    return tuple(out)


def is_current(recording: Recording) -> bool:
    return recording.baseline == _baseline()


def _key(row: tuple) -> tuple:
    return tuple(repr(value) for value in row)


def _snapshot() -> dict[str, tuple[Table, set]]:
    """Every table's rows the runtime role can see (the caller holds a scope over every tenant)."""
    out = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if table == "django_migrations":
                continue
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - names come from the catalogue
            columns = [col.name for col in cursor.description]
            wrappers = [JSON_OIDS.get(col.type_code) for col in cursor.description]
            rows = cursor.fetchall()
            out[table] = (Table(columns, wrappers, rows), {_key(row) for row in rows})
    return out


def record(build) -> tuple[object, Recording | None]:
    """Build the tree with `build()` and return it with the rows it added (None: not replayable)."""
    with system_scope("test tree: rows before the build"):
        before = _snapshot()
    tree = build()
    school_ids = [v.pk for v in vars(tree).values() if isinstance(v, School)]
    district_ids = [v.pk for v in vars(tree).values() if isinstance(v, District)]
    with system_scope("test tree: rows the build added", school_ids=school_ids, district_ids=district_ids):
        after = _snapshot()
    tables = {}
    for name, (table, keys) in after.items():
        old_keys = before.get(name, (None, set()))[1]
        if not old_keys <= keys:
            return tree, None  # the build changed or deleted an existing row
        added = [row for row in table.rows if _key(row) not in old_keys]
        if added:
            tables[name] = Table(table.columns, table.wrappers, added)
    objects = {name: value for name, value in vars(tree).items() if hasattr(value, "pk")}
    return tree, Recording(tables, school_ids, district_ids, {name: obj.pk for name, obj in objects.items()},
                           {name: type(obj) for name, obj in objects.items()}, _baseline())


def replay(recording: Recording) -> None:
    """Insert the recorded rows in one transaction (foreign keys are checked at its end)."""
    for cache in caches.all():
        cache.clear()  # the ids repeat from test to test: nothing cached may outlive one
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true), set_config(%s, %s, true)",
                       [SETTING, ",".join(map(str, recording.school_ids)),
                        DISTRICT_SETTING, ",".join(map(str, recording.district_ids))])
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for name, table in recording.tables.items():
            columns = ", ".join(f'"{c}"' for c in table.columns)
            marks = ", ".join(["%s"] * len(table.columns))
            rows = [tuple(wrap(v) if wrap and v is not None else v for wrap, v in zip(table.wrappers, row))
                    for row in table.rows]
            cursor.executemany(f'INSERT INTO "{name}" ({columns}) VALUES ({marks})', rows)  # noqa: S608
        cursor.execute("SELECT set_config(%s, '', true), set_config(%s, '', true)", [SETTING, DISTRICT_SETTING])
    _sequences_past(recording)


def _sequences_past(recording: Recording) -> None:
    """Sequences must hand out ids above the replayed ones (a test may have reset them lower)."""
    behind = []
    with connection.cursor() as cursor:
        for name, table in recording.tables.items():
            if "id" not in table.columns:
                continue
            top = max(row[table.columns.index("id")] for row in table.rows)
            if not isinstance(top, int):
                continue
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [name])
            sequence = cursor.fetchone()[0]
            if sequence is None:
                continue
            cursor.execute(f"SELECT last_value FROM {sequence}")  # noqa: S608
            if cursor.fetchone()[0] < top:
                behind.append((sequence, top))
    if behind:
        # setval needs UPDATE on the sequence, which only the owner role holds.
        with psycopg.connect(owner_database_url(connection.settings_dict), autocommit=True) as conn:
            for sequence, top in behind:
                conn.execute("SELECT setval(%s, %s)", [sequence, top])


def load(tree_class, recording: Recording):
    """A Tree whose attributes are fresh instances of the replayed rows."""
    tree = tree_class()
    with system_scope("test tree: load", school_ids=recording.school_ids, district_ids=recording.district_ids):
        for model in set(recording.kinds.values()):
            names = {name: recording.pks[name] for name, kind in recording.kinds.items() if kind is model}
            found = model.objects.in_bulk(list(names.values()))
            for name, pk in names.items():
                setattr(tree, name, found[pk])
    return tree
