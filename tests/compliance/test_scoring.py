"""Scoring: rule math, end-to-end scores from test metrics, cache, constant query count."""
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance import metrics, services
from compliance.scoring import apply_rule, assessment_scores, compute_scores
from tenancy import services as tenancy_services
from tenancy.roles import Role
from tenancy.scoping import district_scope
from tests.support.compliance import SEMESTER, TEST_YAML

D = Decimal


@pytest.mark.parametrize("rule, kw, value, expected", [
    ("threshold", {"threshold": 1}, 1, "10.00"),
    ("threshold", {"threshold": 1}, 0.99, "0.00"),
    ("threshold", {"threshold": 0}, 0, "10.00"),
    ("threshold", {"threshold": 3}, 7, "10.00"),
    ("proportional", {"target": 4}, 2, "5.00"),
    ("proportional", {"target": 4}, 4, "10.00"),
    ("proportional", {"target": 4}, 9, "10.00"),      # capped at the item's points
    ("proportional", {"target": 3}, 1, "3.33"),
    ("proportional", {"target": 1}, -0.5, "0.00"),    # never negative
    ("proportional", {"target": 1}, 0.875, "8.75"),
    ("bands", {"bands": [[1, 2], [3, 6], [5, 10]]}, 0, "0.00"),
    ("bands", {"bands": [[1, 2], [3, 6], [5, 10]]}, 1, "2.00"),
    ("bands", {"bands": [[1, 2], [3, 6], [5, 10]]}, 4.9, "6.00"),
    ("bands", {"bands": [[1, 2], [3, 6], [5, 10]]}, 5, "10.00"),
    ("bands", {"bands": [[0, 1], [2, 4]]}, 0, "1.00"),
])
def test_rule_math(rule, kw, value, expected):
    assert apply_rule(rule=rule, points=D("10"), value=value, **kw) == D(expected)


@pytest.mark.parametrize("rule, kw", [("threshold", {"threshold": 1}), ("proportional", {"target": 2}),
                                      ("bands", {"bands": [[0, 5]]})])
def test_none_value_is_not_applicable(rule, kw):
    assert apply_rule(rule=rule, points=D("10"), value=None, **kw) is None


def test_scores_end_to_end(tree, assessment):
    scores = compute_scores(assessment)
    s = scores["schools"]
    # The assessment covers the district's five schools, never the other district's.
    assert set(s) == {tree.gupei.id, tree.village_a.id, tree.village_b.id, tree.menzhuang.id}
    g, m, a, b = s[tree.gupei.id], s[tree.menzhuang.id], s[tree.village_a.id], s[tree.village_b.id]
    # gupei: 4 staff -> T1 8, T2 4, T3 4; M1 pending -> 16 of 16 -> 20 of the declared 20.
    assert {k: v["score"] for k, v in g["items"].items()} == {"T1": D("8.00"), "T2": D("4.00"), "T3": D("4.00"),
                                                               "M1": None}
    assert g["items"]["M1"]["status"] == "pending" and g["items"]["T1"]["value"] == 4.0
    assert (g["earned"], g["applicable_points"], g["score"], g["rank"]) == (D("16.00"), D("16.00"), D("20.00"), 1)
    # menzhuang: 2 staff -> 4 + 4 + 2 = 10 of 16 -> 12.50
    assert (m["earned"], m["score"], m["rank"], m["lost"]) == (D("10.00"), D("12.50"), 2, D("6.00"))
    # village_a: 1 staff (its admin) -> 2 + 4 + 1 = 7 -> 8.75
    assert (a["earned"], a["score"], a["rank"]) == (D("7.00"), D("8.75"), 3)
    # village_b: nobody -> 0
    assert (b["earned"], b["score"], b["rank"]) == (D("0.00"), D("0.00"), 4)
    assert scores["order"] == [tree.gupei.id, tree.menzhuang.id, tree.village_a.id, tree.village_b.id]


def test_township_assessment_covers_its_subtree_only(tree, version):
    a = services.assessment_create(district=tree.district, checklist_version=version, title="古沛片区",
                                   root_school=tree.gupei, actor=tree.bureau_admin, **SEMESTER)
    assert set(compute_scores(a)["schools"]) == {tree.gupei.id, tree.village_a.id, tree.village_b.id}


def test_not_applicable_items_leave_the_score(tree):
    text = """\
checklist: na
title_zh: 不适用测试
total: 10
sections:
- code: S
  title_zh: 测试
  items:
  - {code: V, title_zh: 村小, title_en: Village, points: 5, check: records, scoring: automatic,
     metric: test_village_only, rule: threshold, threshold: 1}
  - {code: A, title_zh: 管理员, title_en: Admin, points: 5, check: records, scoring: automatic,
     metric: test_has_admin, rule: threshold, threshold: 1}
"""
    v = services.checklist_version_publish(version=services.checklist_import_yaml(district=tree.district, text=text))
    a = services.assessment_create(district=tree.district, checklist_version=v, title="na", **SEMESTER)
    s = compute_scores(a)["schools"]
    # gupei is not a village school: V does not apply; its admin item alone scores 5/5 -> 10.
    assert s[tree.gupei.id]["items"]["V"]["status"] == "not_applicable"
    assert (s[tree.gupei.id]["applicable_points"], s[tree.gupei.id]["score"]) == (D("5.00"), D("10.00"))
    # village_b: both apply; it is a village school (5) without an admin (0) -> 5 of 10 -> 5.
    assert (s[tree.village_b.id]["applicable_points"], s[tree.village_b.id]["score"]) == (D("10.00"), D("5.00"))


def test_default_metrics_run_one_query_each_and_need_the_scope(tree):
    """The stubs are gone: each default metric is one statement, and without records a count is 0
    and a share is not applicable (tests/compliance/test_metrics.py covers real records)."""
    from tenancy.scoping import tenant_scope

    ids = [tree.gupei.id, tree.menzhuang.id]
    with tenant_scope(ids), CaptureQueriesContext(connection) as ctx:
        values = {key: metrics.get_metric(key).compute(ids, SEMESTER_OBJ) for key in metrics.DEFAULT_METRIC_KEYS}
    assert len(ctx.captured_queries) == len(metrics.DEFAULT_METRIC_KEYS)
    assert values["rule_documents_present"] == {i: 0.0 for i in ids}
    assert values["four_contact_coverage"] == {i: None for i in ids}
    assert values["submissions_on_time"] == {i: None for i in ids}


class _Sem:
    def __init__(self, start, end):
        self.start, self.end = start, end


SEMESTER_OBJ = _Sem(SEMESTER["semester_start"], SEMESTER["semester_end"])


def test_applicable_from_makes_a_metric_not_applicable_before(tree):
    import datetime as dt

    @metrics.register_metric("test_from_2030", "测试", "From 2030", "n", applicable_from=dt.date(2030, 1, 1))
    def from_2030(school_ids, semester):
        return {i: 1 for i in school_ids}

    assert metrics.get_metric("test_from_2030").compute([tree.gupei.id], SEMESTER_OBJ) == {tree.gupei.id: None}
    later = _Sem(dt.date(2030, 2, 1), dt.date(2030, 7, 1))
    assert metrics.get_metric("test_from_2030").compute([tree.gupei.id], later) == {tree.gupei.id: 1.0}


def test_metrics_reading_school_owned_tables_run_in_the_assessment_scope(tree):
    """test_access_log_rows reads AccessLog (RLS-protected): scoring must enter the tenant scope."""
    text = """\
checklist: logs
title_zh: 日志
total: 10
sections:
- code: S
  title_zh: 测试
  items:
  - {code: L, title_zh: 日志, title_en: Logs, points: 10, check: records, scoring: automatic,
     metric: test_access_log_rows, rule: proportional, target: 2}
"""
    from tenancy.scoping import tenant_scope

    with tenant_scope([tree.menzhuang.id]):
        for _ in range(2):
            tenancy_services.access_log_record(user=tree.menzhuang_admin, school_id=tree.menzhuang.id, action="view",
                                               object_type="x", object_id=1)
    v = services.checklist_version_publish(version=services.checklist_import_yaml(district=tree.district, text=text))
    a = services.assessment_create(district=tree.district, checklist_version=v, title="logs", **SEMESTER)
    s = compute_scores(a)["schools"]
    assert s[tree.menzhuang.id]["earned"] == D("10.00")
    assert s[tree.gupei.id]["earned"] == D("0.00")


def _add_schools(district, n, prefix):
    for i in range(n):
        school = tenancy_services.school_create(district=district, name=f"{prefix}{i}", code=f"{prefix}-{i}")
        if i % 2 == 0:
            user = tenancy_services.user_create(username=f"{prefix}-admin-{i}", password=None)
            tenancy_services.membership_grant(user=user, role=Role.SCHOOL_ADMIN, school=school)


def test_query_count_does_not_depend_on_the_number_of_schools(tree, django_assert_num_queries):
    district = tenancy_services.district_create(name="计数区", code="counting")
    version = services.checklist_version_publish(version=services.checklist_import_yaml(
        district=district, text=TEST_YAML))
    a = services.assessment_create(district=district, checklist_version=version, title="计数", **SEMESTER)
    _add_schools(district, 3, "q")
    with CaptureQueriesContext(connection) as ctx:
        three = assessment_scores(a, use_cache=False)
    assert len(three["schools"]) == 3
    n = len(ctx.captured_queries)
    _add_schools(district, 27, "r")
    with django_assert_num_queries(n):
        thirty = assessment_scores(a, use_cache=False)
    assert len(thirty["schools"]) == 30
    # One query per distinct metric (two here), not per school or per item.
    metric_queries = [q for q in ctx.captured_queries if "tenancy_membership" in q["sql"]]
    assert len(metric_queries) == 2


def test_live_scores_are_cached_and_writes_bump_the_revision(tree, assessment, django_assert_num_queries):
    cache.clear()
    first = assessment_scores(assessment)
    with district_scope(tree.district), django_assert_num_queries(1):  # in a scope: the revision check only
        again = assessment_scores(assessment)
    assert again["computed_at"] == first["computed_at"]
    services.manual_score_set(assessment=assessment, school=tree.menzhuang, item_code="M1", score=4, comment="开放",
                              actor=tree.bureau_inspector)
    fresh = assessment_scores(assessment)
    assert fresh["revision"] == first["revision"] + 1
    assert fresh["schools"][tree.menzhuang.id]["items"]["M1"]["score"] == D("4.00")
    assert fresh["schools"][tree.menzhuang.id]["earned"] == D("14.00")
