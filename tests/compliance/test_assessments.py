"""Assessments: manual scores with audit, snapshots, ranking change, lock, isolation, beat."""
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.http import Http404
from django_scopes import ScopeError

from compliance import selectors, services
from compliance.models import (
    Assessment,
    ImmutableError,
    ManualScore,
    ManualScoreChange,
    Snapshot,
    SnapshotItemScore,
    SnapshotSchool,
)
from compliance.scoring import assessment_scores
from compliance.tasks import snapshot_open_assessments
from tenancy import services as tenancy_services
from tenancy.models import AccessLog
from tenancy.roles import Role
from tenancy.scoping import district_scope, tenant_scope
from tests.support.compliance import SEMESTER
from tests.support.scopes import user_scope

D = Decimal


def _add_staff(school, n, prefix):
    for i in range(n):
        user = tenancy_services.user_create(username=f"{prefix}{i}", password=None)
        tenancy_services.membership_grant(user=user, role=Role.TEACHER, school=school)


# --------------------------------------------------------------------------- manual scores
def test_manual_score_audit_trail(tree, assessment):
    kw = dict(assessment=assessment, school=tree.gupei, item_code="M1")
    services.manual_score_set(**kw, score=3, comment="周三下午未开放", evidence_ids=[11, 12], actor=tree.bureau_inspector)
    services.manual_score_set(**kw, score=4, comment="复查已开放", actor=tree.bureau_admin)
    services.manual_score_set(**kw, score=None, comment="撤回，重新检查", actor=tree.bureau_admin)
    with user_scope(tree.bureau_admin):
        history = selectors.manual_score_history(tree.bureau_admin, assessment, tree.gupei.id)
    assert [(h["changed_by"], h["old_score"], h["new_score"], h["comment"]) for h in history] == [
        ("bureau_inspector", None, D("3.00"), "周三下午未开放"),
        ("bureau_admin", D("3.00"), D("4.00"), "复查已开放"),
        ("bureau_admin", D("4.00"), None, "撤回，重新检查"),
    ]
    assert history[0]["evidence_ids"] == [11, 12] and history[1]["old_comment"] == "周三下午未开放"
    with tenant_scope([tree.gupei.id]):
        assert not ManualScore.objects.filter(assessment=assessment).exists()
        # Every write is in the access log too.
        assert AccessLog.objects.filter(object_type="compliance.manualscore").count() == 3
        # The trail is append-only, even past the ORM.
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            ManualScoreChange.objects.filter(assessment=assessment).update(comment="rewritten")


@pytest.mark.parametrize("kwargs, error", [
    ({"item_code": "M1", "score": 5}, "from 0 to 4"),
    ({"item_code": "M1", "score": -1}, "from 0 to 4"),
    ({"item_code": "M1", "score": "abc"}, "from 0 to 4"),
    ({"item_code": "T1", "score": 1}, "scored automatically"),
    ({"item_code": "ZZ", "score": 1}, "no item ZZ"),
])
def test_manual_score_validation(tree, assessment, kwargs, error):
    with pytest.raises(ValidationError, match=error):
        services.manual_score_set(assessment=assessment, school=tree.gupei, actor=tree.bureau_inspector, **kwargs)


def test_manual_score_needs_the_permission(tree, assessment):
    for user in (tree.gupei_admin, tree.gupei_township, tree.menzhuang_admin):
        with pytest.raises(PermissionDenied):
            services.manual_score_set(assessment=assessment, school=tree.gupei, item_code="M1", score=1,
                                      actor=user)


def test_manual_score_school_must_be_assessed(tree, version):
    a = services.assessment_create(district=tree.district, checklist_version=version, title="古沛片区",
                                   root_school=tree.gupei, actor=tree.bureau_admin,
                                   **SEMESTER)
    with pytest.raises(ValidationError, match="not part of this assessment"):
        services.manual_score_set(assessment=a, school=tree.menzhuang, item_code="M1", score=1,
                                  actor=tree.bureau_inspector)


# --------------------------------------------------------------------------- snapshots and ranking
def test_snapshot_stores_every_schools_item_scores(tree, assessment):
    snap = services.snapshot_take(assessment=assessment, actor=tree.bureau_admin)
    assert snap.school_count == 4
    with tenant_scope([tree.gupei.id, tree.village_a.id, tree.village_b.id, tree.menzhuang.id]):
        assert SnapshotSchool.objects.filter(snapshot=snap).count() == 4
        assert SnapshotItemScore.objects.filter(snapshot=snap).count() == 16
        row = SnapshotSchool.objects.get(snapshot=snap, school=tree.menzhuang)
        assert (row.score, row.rank) == (D("12.50"), 2)
    # Snapshot rows are school-owned: no scope, no rows (ORM) ...
    with pytest.raises(ScopeError):
        list(SnapshotSchool.objects.all())
    # ... and RLS shows a school only its own rows.
    with tenant_scope([tree.menzhuang.id]), connection.cursor() as cur:
        cur.execute("SELECT DISTINCT school_id FROM compliance_snapshotitemscore")
        assert [r[0] for r in cur.fetchall()] == [tree.menzhuang.id]


def test_ranking_shows_change_since_last_snapshot(tree, assessment):
    services.snapshot_take(assessment=assessment)
    # village_b gains four staff: from last (0.00) to first place together with gupei.
    _add_staff(tree.village_b, 4, "vb")
    services.manual_score_set(assessment=assessment, school=tree.village_b, item_code="M1", score=4,
                              actor=tree.bureau_inspector)  # bumps the revision: fresh live scores
    with user_scope(tree.bureau_admin):
        rows = {r["code"]: r for r in selectors.ranking(tree.bureau_admin, assessment)}
    vb = rows["gupei-b"]
    # 4 staff: T1 8 + T2 0 (no admin) + T3 4 + M1 4 = 16 of 20 -> 16.00
    assert (vb["score"], vb["rank"], vb["previous_score"], vb["previous_rank"]) == (D("16.00"), 2, D("0.00"), 4)
    assert (vb["score_change"], vb["rank_change"]) == (D("16.00"), 2)
    assert rows["gupei"]["rank_change"] == 0
    assert rows["menzhuang"]["rank_change"] == -1 and rows["gupei-a"]["rank_change"] == -1


def test_trend_across_snapshots(tree, assessment):
    services.snapshot_take(assessment=assessment)
    _add_staff(tree.village_b, 2, "vb")
    cache.clear()
    services.snapshot_take(assessment=assessment)
    with user_scope(tree.bureau_admin):
        trend = selectors.trend(tree.bureau_admin, assessment)
    assert [p["score"] for p in trend[tree.village_b.id]] == [D("0.00"), D("7.50")]  # 2 staff: 4 + 0 + 2 = 6 of 16
    assert [p["rank"] for p in trend[tree.gupei.id]] == [1, 1]


def test_nightly_job_snapshots_open_assessments_only(tree, assessment, version):
    other = services.assessment_create(district=tree.district, checklist_version=version, title="已锁定",
                                       semester_label="2021年秋季学期", semester_start="2021-09-01",
                                       semester_end="2022-01-20", actor=tree.bureau_admin)
    services.assessment_lock(assessment=other, actor=tree.bureau_admin)
    taken = snapshot_open_assessments()
    with district_scope(tree.district):
        assert [Snapshot.objects.get(pk=t).assessment_id for t in taken] == [assessment.id]
        assert Snapshot.objects.get(pk=taken[0]).kind == "nightly"


def test_nightly_snapshot_job_is_registered_idempotently(db):
    from django_celery_beat.models import PeriodicTask

    from jobs.beat import sync_periodic_tasks

    sync_periodic_tasks()
    sync_periodic_tasks()
    tasks = PeriodicTask.objects.filter(task="compliance.snapshot_open_assessments")
    assert tasks.count() == 1
    assert (tasks[0].crontab.hour, tasks[0].crontab.minute) == ("2", "30")


# --------------------------------------------------------------------------- lock
def test_lock_freezes_everything(tree, assessment, version):
    services.manual_score_set(assessment=assessment, school=tree.gupei, item_code="M1", score=2,
                              actor=tree.bureau_inspector)
    before = assessment_scores(assessment, use_cache=False)
    with pytest.raises(PermissionDenied):
        services.assessment_lock(assessment=assessment, actor=tree.gupei_township)
    with pytest.raises(PermissionDenied):
        services.assessment_lock(assessment=assessment, actor=tree.bureau_inspector)
    services.assessment_lock(assessment=assessment, actor=tree.bureau_admin)
    with district_scope(tree.district):
        assessment.refresh_from_db()
        assert assessment.is_locked and assessment.locked_by == tree.bureau_admin
        lock = Snapshot.objects.get(assessment=assessment)
    assert lock.kind == "lock"

    # Services refuse, with a clear message.
    with pytest.raises(ImmutableError, match="locked"):
        services.manual_score_set(assessment=assessment, school=tree.gupei, item_code="M1", score=4,
                                  actor=tree.bureau_inspector)
    with pytest.raises(ImmutableError, match="locked"):
        services.snapshot_take(assessment=assessment)
    with pytest.raises(ImmutableError, match="locked"):
        services.assessment_lock(assessment=assessment, actor=tree.bureau_admin)
    with pytest.raises(ImmutableError, match="locked"):
        services.assessment_rebind(assessment=assessment, checklist_version=version, actor=tree.bureau_admin)

    # The database refuses whatever bypasses the services.
    ids = [tree.gupei.id]
    for write in (
        lambda: ManualScore.objects.filter(assessment=assessment).update(score=4),
        lambda: ManualScore.objects.filter(assessment=assessment).delete(),
        lambda: Assessment.objects.filter(pk=assessment.pk).update(checklist_version=version, status="open"),
        lambda: SnapshotSchool.objects.filter(snapshot=lock).update(score=100),
        lambda: Snapshot.objects.create(assessment=assessment, kind="manual"),
    ):
        with pytest.raises(DatabaseError, match="locked"), tenant_scope(ids), transaction.atomic():
            write()

    # Scores no longer move with the records: they are the lock snapshot's.
    _add_staff(tree.village_b, 4, "late")
    after = assessment_scores(assessment, use_cache=False)
    assert after["source"] == f"snapshot:{lock.id}"
    for sid, row in before["schools"].items():
        assert after["schools"][sid]["score"] == row["score"]
        assert after["schools"][sid]["rank"] == row["rank"]
        assert {c: r["score"] for c, r in after["schools"][sid]["items"].items()} == \
               {c: r["score"] for c, r in row["items"].items()}


def test_rebind_an_open_assessment(tree, assessment, version):
    draft = services.checklist_version_new_draft(version=version, actor=tree.bureau_admin)
    with pytest.raises(ValidationError, match="published"):
        services.assessment_rebind(assessment=assessment, checklist_version=draft, actor=tree.bureau_admin)
    v2 = services.checklist_version_publish(version=draft, actor=tree.bureau_admin)
    rebound = services.assessment_rebind(assessment=assessment, checklist_version=v2, actor=tree.bureau_admin)
    assert rebound.checklist_version_id == v2.id and rebound.revision == 1


# --------------------------------------------------------------------------- isolation
def test_school_user_sees_only_its_own_scores(tree, assessment):
    services.snapshot_take(assessment=assessment)
    user = tree.menzhuang_admin
    with user_scope(user):
        ranking = selectors.ranking(user, assessment)
        assert [r["school_id"] for r in ranking] == [tree.menzhuang.id]
        assert ranking[0]["rank"] == 2  # its own rank, nobody else's figures
        heat = selectors.heatmap(user, assessment)
        assert [s["school_id"] for s in heat["schools"]] == [tree.menzhuang.id] and len(heat["cells"]) == 1
        assert set(selectors.trend(user, assessment)) == {tree.menzhuang.id}
        assert selectors.trend(user, assessment, school_ids=[tree.gupei.id]) == {}
        assert selectors.school_report(user, assessment, tree.menzhuang.id)["score"] == D("12.50")
        with pytest.raises(Http404):
            selectors.school_report(user, assessment, tree.gupei.id)
        with pytest.raises(Http404):
            selectors.manual_score_history(user, assessment, tree.gupei.id)
        assert not selectors.exports_of(user, assessment).exists()


def test_township_sees_its_subtree_and_bureau_the_district(tree, assessment):
    with user_scope(tree.gupei_township):
        township = {r["school_id"] for r in selectors.ranking(tree.gupei_township, assessment)}
        assert township == {tree.gupei.id, tree.village_a.id, tree.village_b.id}
        with pytest.raises(Http404):
            selectors.school_report(tree.gupei_township, assessment, tree.menzhuang.id)
    with user_scope(tree.bureau_inspector):
        bureau = {r["school_id"] for r in selectors.ranking(tree.bureau_inspector, assessment)}
    assert bureau == {tree.gupei.id, tree.village_a.id, tree.village_b.id, tree.menzhuang.id}
    with district_scope(tree.district):  # nobody's own scope holds no district at all
        assert selectors.ranking(tree.nobody, assessment) == []


def test_assessment_visibility(tree, version):
    district_wide = services.assessment_create(district=tree.district, checklist_version=version, title="全市",
                                               **SEMESTER)
    gupei_only = services.assessment_create(district=tree.district, checklist_version=version, title="古沛片区",
                                            root_school=tree.gupei, **SEMESTER)
    with district_scope(tree.district):
        assert set(selectors.assessments_visible_to(tree.menzhuang_admin)) == {district_wide}
        assert set(selectors.assessments_visible_to(tree.village_a_admin)) == {district_wide, gupei_only}
        assert set(selectors.assessments_visible_to(tree.bureau_admin)) == {district_wide, gupei_only}
        with pytest.raises(Http404):
            selectors.assessment_get_for_user(tree.menzhuang_admin, gupei_only.pk)
    far_admin = tenancy_services.user_create(username="far_admin", password=None)
    tenancy_services.membership_grant(user=far_admin, role=Role.SCHOOL_ADMIN, school=tree.far_school)
    with user_scope(far_admin):
        assert not selectors.assessments_visible_to(far_admin).exists()
    with district_scope(tree.district):  # even where the rows are visible, the selector says no
        assert not selectors.assessments_visible_to(far_admin).exists()


def test_school_report_sorts_by_points_lost_with_next_steps(tree, assessment):
    services.manual_score_set(assessment=assessment, school=tree.village_a, item_code="M1", score=1,
                              actor=tree.bureau_inspector)
    with user_scope(tree.village_a_admin):
        report = selectors.school_report(tree.village_a_admin, assessment, tree.village_a.id)
    # village_a: T1 2 of 8 (lost 6), M1 1 of 4 and T3 1 of 4 (lost 3 each, by code), T2 4 of 4.
    assert [(r["code"], r["lost"]) for r in report["items"]] == [
        ("T1", D("6.00")), ("M1", D("3.00")), ("T3", D("3.00")), ("T2", D("0.00"))]
    assert [s["code"] for s in report["next_steps"]] == ["T1", "M1", "T3"]
    assert report["next_steps"][0]["requirement_zh"] == "至少4名教职工在平台登记。"
    assert report["rank"] == 3 and report["ranked_schools"] == 4


def test_snapshots_are_taken_by_the_bureau_only(tree, assessment):
    for user in (tree.gupei_township, tree.menzhuang_admin, tree.bureau_inspector):
        with pytest.raises(PermissionDenied):
            services.snapshot_take(assessment=assessment, actor=user)
    with pytest.raises(ValidationError, match="locking the assessment"):
        services.snapshot_take(assessment=assessment, kind="lock", actor=tree.bureau_admin)
    with district_scope(tree.district):
        assert not Snapshot.objects.filter(assessment=assessment).exists()
