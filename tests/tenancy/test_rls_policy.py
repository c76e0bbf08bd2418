"""The school policy (tenancy/rls.py) fails closed, and a single-school page stays an index scan on
school_id."""
from __future__ import annotations

import json

import pytest
from django.db import DatabaseError, connection, transaction

from tenancy.models import AccessLog
from tenancy.rls import POLICY
from tenancy.scoping import _runs, tenant_scope
from tenancy.services import access_log_record


@pytest.fixture
def logged(tree):
    """One access-log row (a school-owned table) on gupei."""
    row = access_log_record(user=None, school_id=tree.gupei.id, action=AccessLog.Action.VIEW, object_type="test")
    return tree, row


def _count_with(setting: str | None, pk: int) -> int:
    """Rows the runtime role sees with app.school_ids set to `setting` (None: never set), raw SQL,
    no ORM filter: only the policy decides."""
    with transaction.atomic(), connection.cursor() as cursor:
        if setting is not None:
            cursor.execute("SELECT set_config('app.school_ids', %s, true)", [setting])
        cursor.execute("SELECT count(*) FROM tenancy_accesslog WHERE id = %s", [pk])
        n = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('app.school_ids', '', true)")
        return n


def test_the_list_admits_exactly_its_schools(logged):
    tree, row = logged
    sid = tree.gupei.id
    assert _count_with(str(sid), row.pk) == 1
    assert _count_with(f"{sid + 1},{sid + 100}", row.pk) == 0
    assert _count_with(f"{sid + 1},{sid}", row.pk) == 1


@pytest.mark.parametrize("setting", [None, ""])
def test_unset_or_empty_setting_sees_nothing(logged, setting):
    assert _count_with(setting, logged[1].pk) == 0


def test_runs_admit_exactly_their_schools(logged):
    tree, row = logged
    sid = tree.gupei.id
    assert _count_with(f"{sid - 1}-{sid + 1}", row.pk) == 1
    assert _count_with(f"{sid}-{sid}", row.pk) == 1
    assert _count_with(f"{sid + 1}-{sid + 9},{sid + 20}", row.pk) == 0
    assert _count_with(f"{sid + 20},{sid + 30}-{sid + 40}", row.pk) == 0


def test_scoping_writes_sorted_runs():
    assert _runs((1, 2, 3, 5, 7, 8, 10)) == "1-3,5,7-8,10"
    assert _runs((4,)) == "4"
    assert _runs(()) == ""


@pytest.mark.parametrize("setting", [" ", "x", "-3", "3-", "7-3", "1-2-3", "1,,2", "1;2", "99999999999999999999"])
def test_malformed_setting_is_an_error_not_a_guess(logged, setting):
    with pytest.raises(DatabaseError):
        _count_with(setting, logged[1].pk)


def test_with_check_refuses_a_row_outside_the_runs(tree):
    with tenant_scope([tree.gupei.id]), pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.create(school=tree.menzhuang, action=AccessLog.Action.VIEW, object_type="test")


def test_with_check_admits_a_row_inside_the_runs(tree):
    ids = sorted([tree.gupei.id, tree.menzhuang.id])
    with tenant_scope(ids), transaction.atomic():
        row = AccessLog.objects.create(school=tree.menzhuang, action=AccessLog.Action.VIEW, object_type="test")
        assert AccessLog.objects.filter(pk=row.pk).exists()


def test_the_policy_after_migrate_reads_the_setting_once_per_statement(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT qual, with_check FROM pg_policies WHERE tablename = 'tenancy_accesslog' "
                       "AND policyname = %s", [POLICY])
        qual, check = cursor.fetchone()
    for cond in (qual, check):
        # A function call (estimated at 1/3), not `= ANY` on a parameter (a few rows) nor `<@` (0.005).
        assert "elem_contained_by_multirange(school_id," in cond and "range_agg(" in cond
        assert "current_setting('app.school_ids'" in cond


def _index_conds(plan: dict) -> list[str]:
    found = [plan[k] for k in ("Index Cond", "Recheck Cond") if k in plan]
    for child in plan.get("Plans", []):
        found += _index_conds(child)
    return found


def test_a_single_school_page_is_an_index_scan_on_school_id(logged):
    tree, _ = logged
    with tenant_scope([tree.gupei.id]), connection.cursor() as cursor:
        # Not the planner's choice on a tiny table: make the sequential scan unattractive.
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = AccessLog.objects.filter(school=tree.gupei).order_by("-at", "-id")[:50].query.sql_with_params()
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
        plan = plan if isinstance(plan, list) else json.loads(plan)
        cursor.execute("SET LOCAL enable_seqscan = on")
    conds = _index_conds(plan[0]["Plan"])
    assert any("school_id" in c for c in conds), plan
