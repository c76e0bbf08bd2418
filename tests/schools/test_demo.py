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
