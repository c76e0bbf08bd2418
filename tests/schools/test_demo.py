"""The demo seed of the home: believable, fast enough, and idempotent."""
from __future__ import annotations

import time

import pytest

from schools import demo as schools_demo
from schools import models as m
from schools import selectors
from tenancy import demo as tenancy_demo
from tenancy.models import School
from tenancy.scoping import tenant_scope

COUNTED = [m.Child, m.CareContact, m.Activity, m.Evidence, m.ReusedEvidenceFlag, m.RuleDocumentVersion,
           m.TrainingMeeting, m.StudyPair, m.TutoringSession, m.ProxyAssignment, m.ChildStatusChange,
           m.WorkRecordEntry, m.ThemeSchedule, m.Equipment]


def counts():
    with tenant_scope(School.objects.values_list("id", flat=True)):
        return {model.__name__: model.objects.count() for model in COUNTED} | {
            "perms": m.ChildUserObjectPermission.objects.count(), "semesters": m.Semester.objects.count()}


@pytest.fixture
def seeded(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    ctx = {}
    tenancy_demo.seed(ctx)
    started = time.monotonic()
    schools_demo.seed(ctx)
    ctx["seconds"] = time.monotonic() - started
    return ctx


def test_seed_is_idempotent(seeded):
    before = counts()
    schools_demo.seed(seeded)
    assert counts() == before


def test_seed_is_believable(seeded):
    schools, users = seeded["schools"], seeded["users"]
    print(f"schools demo seed took {seeded['seconds']:.1f}s")
    assert seeded["seconds"] < 30
    with tenant_scope(School.objects.values_list("id", flat=True)):
        for school in schools.values():
            n = m.Child.objects.filter(school=school).count()
            assert 60 <= n <= 200, (school.code, n)
        gupei = schools["gupei"]
        autumn = selectors.semester_current(gupei.district_id, seeded["today"])  # "this semester"
        assert autumn.name == schools_demo.demo_semesters(seeded["today"])[-1][0]
        assert m.TrainingMeeting.objects.filter(school=gupei, semester=autumn).count() == 5
        missing = {code: len(selectors.rule_documents_missing(s)) for code, s in schools.items()}
        assert missing["gupei"] == 0 and missing["menzhuang"] == 1 and max(missing.values()) == 2
        # The copied rule document and the reused photo are flagged for the bureau.
        flags = m.ReusedEvidenceFlag.objects.filter(school=schools["menzhuang"])
        assert {f.matched_school_id for f in flags} == {gupei.id}
        assert m.StudyPair.objects.filter(school=gupei).exists()
    for username, code in (("gupei_teacher", "gupei"), ("menzhuang_teacher", "menzhuang")):
        with tenant_scope([schools[code].id]):
            classes = set(selectors.children_visible_to(users[username]).values_list("class_name", flat=True))
            assert classes == {"四(1)班"}
    with tenant_scope([schools["gupei"].id]):
        dash = selectors.school_dashboard(schools["gupei"], autumn)
        coverage = {c["kind"]: c["percent"] for c in dash["coverage"]}
        # Realistic gaps: most but not all children got each contact this semester.
        assert all(30 <= p < 100 for p in coverage.values()), coverage
        assert 0 < dash["evidence"]["evidenced"] < dash["evidence"]["total"]


def test_demo_children_carry_the_register(seeded):
    """Every assessment, entrusted guardians when both parents are away, assistance, parents out of
    touch for months, a guardian new this month, and a concern flag with its reason."""
    from schools.register import register_errors

    today = seeded["today"]
    gupei = seeded["schools"]["gupei"]
    with tenant_scope([gupei.id]):
        kids = list(m.Child.objects.filter(school=gupei))
        flagged = list(m.CareContact.objects.filter(school=gupei, concern=True))
    assessments = [k.guardianship_assessment for k in kids]
    assert {"good", "fair", "poor", "none"} <= set(assessments)
    assert assessments.count("good") + assessments.count("fair") > 0.8 * len(kids)
    assert 1 <= assessments.count("none") <= 2
    assert all(k.custody_type == "both_away" for k in kids if k.left_behind_kind == "both")
    assert any(k.assistance for k in kids)
    assert any(k.parents_last_contact_on and (today - k.parents_last_contact_on).days > 120 for k in kids)
    assert any(k.guardian_since and (today - k.guardian_since).days <= 30 for k in kids)
    assert [k.name for k in kids if register_errors(k)] == []
    assert 1 <= len(flagged) <= 2 and all(c.concern_reason for c in flagged)
