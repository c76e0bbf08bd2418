"""The district's calendar: editing and deleting semesters (services), records following their dates."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from schools import services
from schools.models import Activity, CareContact, Semester
from tenancy.models import AccessLog, School
from tenancy.scoping import district_scope, tenant_scope

D = dt.date


@pytest.fixture
def spring(tree):
    return services.semester_create(actor=None, district=tree.district, name="2026 春季学期",
                                    start=D(2026, 2, 23), end=D(2026, 7, 5))


@pytest.fixture
def autumn(tree):
    return services.semester_create(actor=None, district=tree.district, name="2026 秋季学期",
                                    start=D(2026, 9, 1), end=D(2027, 1, 24))


def activity(school, day):
    from schools.selectors import semester_for_date

    with tenant_scope([school.id]):
        return Activity.objects.create(school=school, date=day, kind="training", title="t",
                                       semester=semester_for_date(school.district_id, day))


def fresh(semester):
    """Read a semester again, in its district's scope (the calendar is district-owned)."""
    with district_scope(semester):
        semester.refresh_from_db()
    return semester


def semester_of(obj):
    with tenant_scope([obj.school_id]):
        obj.refresh_from_db()
    return obj.semester_id


def test_only_the_district_bureau_admin_edits(tree, spring):
    for user in (tree.bureau_inspector, tree.gupei_admin, tree.gupei_township):
        with pytest.raises(PermissionDenied):
            services.semester_update(actor=user, semester=spring, name="x")
        with pytest.raises(PermissionDenied):
            services.semester_delete(actor=user, semester=spring)
    fresh(spring)
    assert spring.name == "2026 春季学期"
    services.semester_update(actor=tree.bureau_admin, semester=spring, name="春季")
    fresh(spring)
    assert spring.name == "春季"
    with tenant_scope([tree.gupei.id]):
        assert AccessLog.objects.filter(school=tree.gupei, object_type="schools.semester", action="update").exists()


def test_edit_refuses_overlap_and_bad_dates(tree, spring, autumn):
    with pytest.raises(ValidationError, match="overlaps"):
        services.semester_update(actor=tree.bureau_admin, semester=spring, end=D(2026, 9, 3))
    with pytest.raises(ValidationError):
        services.semester_update(actor=tree.bureau_admin, semester=spring, end=D(2026, 2, 1))
    with pytest.raises(ValidationError):  # the name is unique in the district
        services.semester_update(actor=tree.bureau_admin, semester=spring, name=autumn.name)
    fresh(spring)
    assert (spring.name, spring.start, spring.end) == ("2026 春季学期", D(2026, 2, 23), D(2026, 7, 5))


def test_widening_adopts_records_and_shrinking_past_records_is_refused(tree, spring, autumn):
    summer = activity(tree.gupei, D(2026, 7, 10))
    june = activity(tree.menzhuang, D(2026, 6, 30))
    assert semester_of(summer) is None and semester_of(june) == spring.id
    services.semester_update(actor=tree.bureau_admin, semester=spring, end=D(2026, 7, 12))
    assert semester_of(summer) == spring.id
    with pytest.raises(ValidationError, match="2 record") as exc:
        services.semester_update(actor=tree.bureau_admin, semester=spring, end=D(2026, 6, 20))
    assert "activities" in str(exc.value) or "活动" in str(exc.value)
    fresh(spring)
    assert spring.end == D(2026, 7, 12)
    assert semester_of(summer) == spring.id and semester_of(june) == spring.id
    # Shrinking away from the records is fine.
    services.semester_update(actor=tree.bureau_admin, semester=spring, start=D(2026, 3, 1))
    fresh(spring)
    assert spring.start == D(2026, 3, 1)


def test_delete_only_when_nothing_points_at_it(tree, spring, autumn):
    act = activity(tree.gupei, D(2026, 3, 10))
    with pytest.raises(ValidationError, match="cannot be deleted") as exc:
        services.semester_delete(actor=tree.bureau_admin, semester=spring)
    assert "1 " in str(exc.value)
    with district_scope(tree.district):
        assert Semester.objects.filter(pk=spring.pk).exists()
    with tenant_scope([tree.gupei.id]):
        act.delete()
    services.semester_delete(actor=tree.bureau_admin, semester=spring)
    services.semester_delete(actor=tree.bureau_admin, semester=autumn)
    with district_scope(tree.district):
        assert not Semester.objects.filter(district=tree.district).exists()


def test_contacts_and_theme_schedules_count_as_references(tree, spring):
    with tenant_scope([tree.gupei.id]):
        services.theme_schedule_set(actor=None, school=tree.gupei, semester=spring, weekday=1, theme="读书")
    refs = services.semester_references(spring)
    assert sum(refs.values()) == 1
    with pytest.raises(ValidationError):
        services.semester_delete(actor=None, semester=spring)
    ids = list(School.objects.values_list("id", flat=True))
    with tenant_scope(ids):
        assert CareContact.objects.count() == 0
