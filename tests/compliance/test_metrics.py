"""The default metrics on real school records: values, gaps, scope, and a constant query count."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks import benchdata
from compliance import metrics, services
from compliance.scoring import compute_scores
from schools.models import (
    Activity,
    ActivitySite,
    CareContact,
    Child,
    Equipment,
    Evidence,
    LeadershipMember,
    ProxyAssignment,
    RuleDocument,
    RuleDocumentVersion,
    Semester,
    ThemeSchedule,
    TrainingMeeting,
)
from tenancy import services as tenancy_services
from tenancy.scoping import district_scope, tenant_scope
from tests.support.scopes import user_scope

START, END = dt.date(2026, 9, 1), dt.date(2027, 1, 24)


@pytest.fixture
def semester(tree):
    with district_scope(tree.district):
        return Semester.objects.create(district=tree.district, name="2026 秋季学期", start=START, end=END)


def _child(school, name, **kw):
    fields = dict(gender="male", grade=3, class_name="三(1)班", left_behind_kind="both", parents_work_place="宁波",
                  guardian_name="奶奶", guardian_relation="祖母", guardian_phone="138", status_since=START,
                  custody_type="both_away", guardianship_assessment="good", income_source="migrant_work",
                  health_status="healthy", household_registration="明光市古沛镇")
    fields.update(kw)
    return Child.objects.create(school=school, name=name, **fields)


def _photo(school, activity, n):
    return Evidence.objects.create(school=school, kind="photo", file=f"x/{n}.jpg", sha256=f"{n:064d}",
                                   content_type="image/jpeg", size=1, activity=activity)


@pytest.fixture
def records(tree, semester):
    """gupei: 2 of 3 children fully contacted, 2 of 3 archives complete, activities 1 of 2 evidenced,
    7 of 9 rule documents, 3 of 4 equipment kinds, Mon+Tue themes held of 3 scheduled. menzhuang: nothing."""
    g, u = tree.gupei, tree.gupei_teacher
    with tenant_scope([g.id]):
        full = _child(g, "张小明")
        full2 = _child(g, "李小红")
        partial = _child(g, "王小刚", guardian_phone="")   # incomplete archive, and no letter
        _child(g, "赵小飞", status="transferred", status_since=dt.date(2026, 8, 1))  # left before the semester
        for c in (full, full2, partial):
            ProxyAssignment.objects.create(school=g, child=c, proxy_parent=u, starts_on=START)
        for c in (full, full2, partial):
            for kind in ("home_visit", "talk", "guardian_contact", "letter"):
                if c is partial and kind == "letter":
                    continue
                CareContact.objects.create(school=g, child=c, kind=kind, happened_on=dt.date(2026, 10, 9),
                                           semester=semester, made_by=u)
        # A letter in the previous semester does not count.
        spring = Semester.objects.create(district=tree.district, name="2026 春季学期", start=dt.date(2026, 2, 23),
                                         end=dt.date(2026, 7, 5))
        CareContact.objects.create(school=g, child=partial, kind="letter", happened_on=dt.date(2026, 6, 1),
                                   semester=spring, made_by=u)
        mon = Activity.objects.create(school=g, date=dt.date(2026, 10, 12), kind="theme_activity", title="周一心理",
                                      text_record="记录", semester=semester)
        tue = Activity.objects.create(school=g, date=dt.date(2026, 10, 13), kind="theme_activity", title="周二阅读",
                                      text_record="", semester=semester)
        _photo(g, mon, 1)
        _photo(g, tue, 2)
        for wd in (1, 2, 3):
            ThemeSchedule.objects.create(school=g, semester=semester, weekday=wd, theme=f"主题{wd}")
        kinds = ["construction_plan", "annual_plan", "management", "assessment", "accountability", "activities",
                 "counselling"]
        for n, kind in enumerate(kinds, start=10):
            doc = RuleDocument.objects.create(school=g, kind=kind)
            ev = Evidence.objects.create(school=g, kind="document", file=f"d/{n}.pdf", sha256=f"{n:064d}",
                                         content_type="application/pdf", size=1)
            RuleDocumentVersion.objects.create(school=g, document=doc, number=1, adopted_on=START, evidence=ev)
        for kind in ("computer", "tv", "books"):
            Equipment.objects.create(school=g, kind=kind, quantity=1, acquired_on=START)
        ActivitySite.objects.create(school=g, room="活动室", opened_on=START, area_m2=60)
        for i, title in enumerate(["校长", "教导主任", "总务主任", "少先队辅导员"]):
            LeadershipMember.objects.create(school=g, person_name=f"成员{i}", title=title, is_leader=i == 0, order=i)
        for day in (dt.date(2026, 9, 10), dt.date(2026, 11, 5), dt.date(2026, 6, 1)):
            TrainingMeeting.objects.create(school=g, date=day, topic="以会代训")
    return {"full": full, "partial": partial}


def _values(ids, semester):
    with tenant_scope(ids):
        return metrics.compute_metrics(metrics.DEFAULT_METRIC_KEYS, ids, semester)


def test_metric_values_from_records(tree, semester, records):
    g, m = tree.gupei.id, tree.menzhuang.id
    v = _values([g, m], semester)
    assert v["four_contact_coverage"] == {g: pytest.approx(2 / 3), m: None}
    assert v["archive_completeness"] == {g: pytest.approx(2 / 3), m: None}
    assert v["activities_evidenced_share"] == {g: 0.5, m: None}
    assert v["rule_documents_present"] == {g: 7.0, m: 0.0}
    assert v["equipment_present"] == {g: 3.0, m: 0.0}
    assert v["weekday_schedule_held"] == {g: 2.0, m: 0.0}
    assert v["designated_site"] == {g: 1.0, m: 0.0}
    assert v["leadership_group_set_up"] == {g: 1.0, m: 0.0}
    assert v["proxy_parent_trainings"] == {g: 2.0, m: 0.0}
    assert v["submissions_on_time"] == {g: None, m: None}
    # A bare date window (no Semester row) reads the same records by their dates.
    from compliance.models import SemesterWindow

    w = _values([g, m], SemesterWindow(START, END, "window"))
    assert w == v


def test_activity_share_agrees_with_the_schools_queryset(tree, semester, records):
    g = tree.gupei
    with tenant_scope([g.id]):
        totals = Activity.objects.filter(school=g, date__range=(START, END)).evidence_totals()
        share = metrics.get_metric("activities_evidenced_share").compute([g.id], semester)[g.id]
    assert share == totals["evidenced"] / totals["total"]


def test_metrics_see_nothing_outside_the_scope(tree, semester, records):
    """RLS: asked for gupei inside menzhuang's scope, the records are invisible."""
    with tenant_scope([tree.menzhuang.id]):
        v = metrics.get_metric("rule_documents_present").compute([tree.gupei.id], semester)
    assert v == {tree.gupei.id: 0.0}


def test_gaps_name_the_missing_things(tree, semester, records):
    g = tree.gupei.id
    with tenant_scope([g]):
        contact = metrics.get_metric("four_contact_coverage").gaps([g], semester)
        rules = metrics.get_metric("rule_documents_present").gaps([g], semester)
        acts = metrics.get_metric("activities_evidenced_share").gaps([g], semester)
        archive = metrics.get_metric("archive_completeness").gaps([g], semester)
        weekdays = metrics.get_metric("weekday_schedule_held").gaps([g], semester)
        equipment = metrics.get_metric("equipment_present").gaps([g], semester)
    assert [(x["child"], x["missing"]) for x in contact] == [("王小刚", ["letter"])]
    assert "王小刚" not in contact[0]["detail"]
    assert sorted(x["missing"][0] for x in rules) == ["health_education", "proxy_parent"]
    assert [(x["detail"].split("”")[0][-4:], x["missing"]) for x in acts] == [("周二阅读", ["text_record"])]
    assert [(x["child"], x["missing"]) for x in archive] == [("王小刚", ["guardian_phone"])]
    assert [(x["missing"], x["kind"]) for x in weekdays] == [([3], "weekday_not_held"), ([4], "weekday_not_scheduled"),
                                                              ([5], "weekday_not_scheduled")]
    assert [x["missing"] for x in equipment] == [["family_phone"]]


def test_submissions_on_time(tree, semester):
    from submissions.models import Submission

    rt = benchdata.create_report_type(district=tree.district, semester=semester)
    with district_scope(tree.district):
        rt.schools.add(tree.gupei)
        periods = list(rt.periods.order_by("seq"))
    g = tree.gupei
    with tenant_scope([g.id]):
        Submission.objects.create(school=g, report_type=rt, period=periods[0], status="submitted",
                                  timeliness="on_time", first_submitted_at=dt.datetime(2026, 10, 2, tzinfo=dt.UTC))
        Submission.objects.create(school=g, report_type=rt, period=periods[1], status="submitted",
                                  timeliness="late", first_submitted_at=dt.datetime(2026, 11, 20, tzinfo=dt.UTC))
    from unittest import mock

    # "Today" 2026-12-10: September, October and November are due (3 expected), one on time.
    with mock.patch("django.utils.timezone.localdate", return_value=dt.date(2026, 12, 10)):
        v = _values([g.id, tree.menzhuang.id], semester)["submissions_on_time"]
        with tenant_scope([g.id]):
            gaps = metrics.get_metric("submissions_on_time").gaps([g.id], semester)
    assert v == {g.id: pytest.approx(1 / 3), tree.menzhuang.id: None}
    assert [x["kind"] for x in gaps] == ["submission_late", "submission_missing"]


def _assessment(tree, semester):
    version = services.checklist_load_default(district=tree.district)
    return services.assessment_create(district=tree.district, checklist_version=version, title="考核",
                                      semester=semester, actor=tree.bureau_admin)


def _queries(assessment) -> int:
    with CaptureQueriesContext(connection) as ctx:
        compute_scores(assessment)
    return len(ctx.captured_queries)


def test_query_count_is_the_same_for_3_and_30_schools_with_real_records(tree, semester):
    """3 schools with records, then 27 more with records: the same number of queries."""
    user = tree.gupei_teacher
    rt = benchdata.create_report_type(district=tree.district, semester=semester)
    first = [tree.gupei.id, tree.village_a.id, tree.village_b.id]
    with tenant_scope(first):
        benchdata.generate_records(school_ids=first, semester=semester, user=user, children=8, report_type=rt)
    # Only the township subtree first (3 schools): root_school = gupei.
    version = services.checklist_load_default(district=tree.district)
    a = services.assessment_create(district=tree.district, checklist_version=version, title="古沛片区",
                                   semester=semester, root_school=tree.gupei, actor=tree.bureau_admin)
    small = _queries(a)
    scores = compute_scores(a)
    assert len(scores["schools"]) == 3
    assert all(row["items"]["E1"]["status"] == "scored" for row in scores["schools"].values())
    assert any(row["items"]["F3"]["status"] == "scored" for row in scores["schools"].values())
    extra = [tenancy_services.school_create(district=tree.district, name=f"村小{i}", code=f"cx-{i}", parent=tree.gupei).id
             for i in range(27)]
    with tenant_scope(extra):
        benchdata.generate_records(school_ids=extra, semester=semester, user=user, children=8, report_type=rt)
    assert len(compute_scores(a)["schools"]) == 30
    assert _queries(a) == small



def test_drill_down_shows_names_only_with_identity_permission(tree, semester, records):
    from compliance import selectors
    from tenancy.models import AccessLog

    a = _assessment(tree, semester)
    g = tree.gupei.id
    with user_scope(tree.bureau_admin):
        bureau = selectors.item_gaps(tree.bureau_admin, a, g, "E1")
    assert [(x["child"], x["missing"]) for x in bureau["gaps"]] == [("王*", ["letter"])]
    assert "child_id" not in bureau["gaps"][0] and not bureau["names_shown"]
    with tenant_scope([g]):
        before = AccessLog.objects.filter(object_type="compliance.gaps").count()
    with user_scope(tree.gupei_admin):
        admin = selectors.item_gaps(tree.gupei_admin, a, g, "E1")
    assert [(x["child"], x["child_id"]) for x in admin["gaps"]] == [("王小刚", records["partial"].id)]
    with tenant_scope([g]):
        assert AccessLog.objects.filter(object_type="compliance.gaps").count() == before + 1
    with user_scope(tree.bureau_admin):
        rules = selectors.item_gaps(tree.bureau_admin, a, g, "C1")
    assert len(rules["gaps"]) == 2 and rules["value"] == 7.0
    from django.http import Http404

    with pytest.raises(Http404), user_scope(tree.menzhuang_admin):
        selectors.item_gaps(tree.menzhuang_admin, a, g, "E1")


def test_export_gaps_sheet_masks_children(tree, semester, records):
    import io

    import openpyxl
    from django.core.files.storage import default_storage

    from compliance.exports import run_export

    a = _assessment(tree, semester)
    job = services.export_request(assessment=a, actor=tree.bureau_admin)
    run_export(job.id)
    with district_scope(tree.district):
        job.refresh_from_db()
    with default_storage.open(job.file.name, "rb") as f:
        wb = openpyxl.load_workbook(io.BytesIO(f.read()))
    rows = list(wb["Gaps"].iter_rows(values_only=True))[1:]
    contact = [r for r in rows if r[1] == "E1"]
    assert contact and contact[0][4] == "王**"
    assert not any("王小刚" in str(cell) for r in rows for cell in r)
    assert any(r[1] == "C1" for r in rows) and any(r[1] == "F1" for r in rows)
