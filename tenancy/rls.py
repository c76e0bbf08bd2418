"""PostgreSQL row-level security for every SchoolOwnedModel table.

Applied after each migrate (post_migrate), idempotently, so a new school-owned model cannot be
added without its policy. The policy reads the transaction-local `app.school_ids` once per
statement (scalar sub-select), so the school_id index stays usable; an unset value matches no row.
FORCE ROW LEVEL SECURITY makes the policy bind the table owner too; the app role is neither
superuser nor BYPASSRLS (checked by tenancy.checks).
"""
from __future__ import annotations

from django.apps import apps
from django.db import connections
from django.db.models.signals import post_migrate
from django.dispatch import receiver

POLICY = "school_isolation"
# The cast sits inside the sub-select so it runs once per statement (an InitPlan), not once per
# row; the outer cast keeps `= ANY (…)` the array form rather than the sub-query form.
_IDS = "((SELECT string_to_array(nullif(current_setting('app.school_ids', true), ''), ',')::bigint[])::bigint[])"


def school_owned_models():
    from .models import SchoolOwnedModel

    return [
        m for m in apps.get_models()
        if issubclass(m, SchoolOwnedModel) and not m._meta.proxy and m._meta.managed
    ]


def policy_sql(table: str) -> list[str]:
    q = connections["default"].ops.quote_name(table)
    cond = f"school_id = ANY {_IDS}"
    return [
        f"ALTER TABLE {q} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {q} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY} ON {q}",
        f"CREATE POLICY {POLICY} ON {q} USING ({cond}) WITH CHECK ({cond})",
    ]


def apply_policies(using: str = "default") -> list[str]:
    tables = []
    with connections[using].cursor() as cursor:
        for model in school_owned_models():
            table = model._meta.db_table
            cursor.execute("SELECT to_regclass(%s)", [table])
            if cursor.fetchone()[0] is None:
                continue  # not migrated yet
            for stmt in policy_sql(table):
                cursor.execute(stmt)
            tables.append(table)
    return tables


@receiver(post_migrate)
def _apply_after_migrate(sender, using="default", **kwargs):
    # post_migrate fires once per app after the whole migrate run; once is enough.
    if sender.name == "tenancy":
        apply_policies(using)
