"""Every table of the home is school-owned, scoped and under row-level security."""
from __future__ import annotations

import pytest
from django.db import connection
from django_scopes import ScopeError

from schools import models as m
from tenancy.rls import school_owned_models
from tenancy.scoping import tenant_scope


def test_all_home_tables_are_school_owned_with_forced_rls(db):
    mine = {model for model in school_owned_models() if model._meta.app_label == "schools"}
    expected = {
        m.Evidence, m.ReusedEvidenceFlag, m.ActivitySite, m.Equipment, m.LeadershipMember, m.RuleDocument,
        m.RuleDocumentVersion, m.StaffProfile, m.Child, m.ChildStatusChange, m.ProxyAssignment,
        m.TrainingMeeting, m.TrainingAttendance, m.WorkRecordEntry, m.CareContact, m.ThemeSchedule, m.Activity,
        m.ActivityParticipant, m.StudyPair, m.TutoringSession, m.ChildContactSummary,
    }
    assert mine == expected
    with connection.cursor() as cursor:
        for model in mine:
            cursor.execute("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass",
                           [model._meta.db_table])
            assert cursor.fetchone() == (True, True), model


def test_every_home_index_leads_with_school(db):
    for model in school_owned_models():
        if model._meta.app_label != "schools":
            continue
        for index in model._meta.indexes:
            assert index.fields[0] == "school", (model, index.name)


def test_children_unscoped_orm_raises_and_raw_sql_sees_nothing(home):
    with pytest.raises(ScopeError):
        list(m.Child.objects.all())
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM schools_child")
        assert cursor.fetchone()[0] == 0


def test_other_schools_rows_invisible(home, today):
    from schools import services

    with tenant_scope([home.menzhuang.id]):
        services.care_contact_record(actor=home.menzhuang_admin, child_id=home.m[0].id, kind="letter",
                                     happened_on=today)
    with tenant_scope([home.gupei.id]):
        assert set(m.Child.objects.values_list("school_id", flat=True)) == {home.gupei.id}
        assert m.CareContact.objects.count() == 0
        assert m.ProxyAssignment.objects.filter(child_id=home.m[0].id).count() == 0
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM schools_carecontact")
            assert cursor.fetchone()[0] == 0
    with tenant_scope([home.menzhuang.id]):
        assert m.CareContact.objects.count() == 1
