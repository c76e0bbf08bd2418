"""PostgreSQL row-level security for every school-owned and district-owned table.

Applied after each migrate (post_migrate), idempotently, so no tenant-owned model goes without its
policy; FORCE makes it bind the table owner too. School-owned rows: `school_id` in the transaction's
`app.school_ids`; district-owned: `district_id` in `app.district_ids`; below a district-owned row
(DistrictOwnedChild): the parent row must be visible (an uncorrelated sub-select, itself filtered by
the parent's policy, run once per statement). The settings are read once per statement (scalar
sub-select, an InitPlan). An unset or empty setting matches no row; a malformed one is an error.

`app.school_ids` holds ids and runs ("3,7-12,15"; tenancy.scoping writes runs, a plain id list is
valid too). The school policy turns it into an int8multirange once per statement and tests each
row with `elem_contained_by_multirange`, a binary search over the runs. Why not `school_id = ANY
(array)`: the planner estimates that, on a parameter, at about ten ids' worth of rows, so a
district-wide aggregate became a bitmap scan with a sort sized for a few rows, and each row scanned
the array. The function-call form gets the default 1/3 (the `<@` operator would get 0.005), which
keeps the plain WHERE's plan. It is no index condition: every query names its schools itself
(django-scopes adds `school_id IN (...)`, raw SQL passes the ids), and that is what the index uses;
a read with no school filter of its own scans the table. District arrays stay small, so their
policy keeps `= ANY`.
"""
from __future__ import annotations

from django.apps import apps
from django.db import connections
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from .models import DistrictOwnedChild, DistrictOwnedModel, IdempotencyKey, SchoolOwnedModel

POLICY = "school_isolation"
DISTRICT_POLICY = "district_isolation"


def _ids(setting: str) -> str:
    # The cast sits inside the sub-select so it runs once per statement (an InitPlan), not once per
    # row; the outer cast keeps `= ANY (…)` the array form rather than the sub-query form.
    return f"((SELECT string_to_array(nullif(current_setting('{setting}', true), ''), ',')::bigint[])::bigint[])"


# Each item is "id" or "first-last". A malformed item ("", " ", "-3", "3-", "1-2-3", "7-3") fails a
# cast or the range constructor: the statement errors rather than guessing.
_SCHOOL_RANGES = (
    "(SELECT range_agg(int8range(split_part(r, '-', 1)::bigint, substr(r, strpos(r, '-') + 1)::bigint, '[]'))"
    " FROM unnest(string_to_array(nullif(current_setting('app.school_ids', true), ''), ',')) AS r)"
)
# A function call, not `<@`, on purpose: see the module docstring (estimate and per-row cost).
_IN_SCHOOLS = f"elem_contained_by_multirange(school_id, {_SCHOOL_RANGES})"
_DISTRICT_IDS = _ids("app.district_ids")


def _concrete(model) -> bool:
    return not model._meta.proxy and model._meta.managed and not model._meta.abstract


def school_owned_models():
    return [m for m in apps.get_models() if issubclass(m, SchoolOwnedModel) and _concrete(m)]


def district_owned_models():
    """Models with their own `district` column (DistrictOwnedModel)."""
    return [m for m in apps.get_models() if issubclass(m, DistrictOwnedModel) and _concrete(m)]


def district_child_models():
    """Models owned through a district-owned parent (DistrictOwnedChild)."""
    return [m for m in apps.get_models() if issubclass(m, DistrictOwnedChild) and _concrete(m)]


def _policy(table: str, name: str, cond: str) -> list[str]:
    q = connections["default"].ops.quote_name(table)
    return [
        f"ALTER TABLE {q} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {q} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {name} ON {q}",
        f"CREATE POLICY {name} ON {q} USING ({cond}) WITH CHECK ({cond})",
    ]


def policy_sql(table: str) -> list[str]:
    return _policy(table, POLICY, _IN_SCHOOLS)


def district_policy_sql(table: str) -> list[str]:
    return _policy(table, DISTRICT_POLICY, f"district_id = ANY {_DISTRICT_IDS}")


def child_policy_sql(model) -> list[str]:
    fk = model._meta.get_field(model.district_parent)
    parent = fk.related_model
    if not issubclass(parent, (DistrictOwnedModel, DistrictOwnedChild)):
        raise TypeError(f"{model.__name__}.district_parent must name a district-owned model, not {parent.__name__}.")
    quote = connections["default"].ops.quote_name
    cond = f"{quote(fk.column)} IN (SELECT {quote(parent._meta.pk.column)} FROM {quote(parent._meta.db_table)})"
    return _policy(model._meta.db_table, DISTRICT_POLICY, cond)


def idempotency_policy_sql(table: str) -> list[str]:
    # District-owned, and narrowed to the school when the key was claimed for one: a school's
    # keys stay out of its neighbours' reach like the rest of its rows.
    cond = f"district_id = ANY {_DISTRICT_IDS} AND (school_id IS NULL OR {_IN_SCHOOLS})"
    return _policy(table, DISTRICT_POLICY, cond)


def _statements():
    for model in school_owned_models():
        yield model._meta.db_table, policy_sql(model._meta.db_table)
    for model in district_owned_models():
        table = model._meta.db_table
        # A model may ask to be narrowed to its optional school like the idempotency keys.
        narrowed = model is IdempotencyKey or getattr(model, "rls_narrow_to_school", False)
        yield table, (idempotency_policy_sql(table) if narrowed else district_policy_sql(table))
    for model in district_child_models():
        yield model._meta.db_table, child_policy_sql(model)


def apply_policies(using: str = "default") -> list[str]:
    tables = []
    with connections[using].cursor() as cursor:
        for table, statements in _statements():
            cursor.execute("SELECT to_regclass(%s)", [table])
            if cursor.fetchone()[0] is None:
                continue  # not migrated yet
            for stmt in statements:
                cursor.execute(stmt)
            tables.append(table)
    return tables


@receiver(post_migrate)
def _apply_after_migrate(sender, using="default", **kwargs):
    # post_migrate fires once per app after the whole migrate run; once is enough.
    if sender.name == "tenancy":
        apply_policies(using)
