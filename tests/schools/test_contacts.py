"""The four contacts: who may record them, and which dates are accepted."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from schools import selectors, services
from schools.models import CareContact, Child
from tenancy.scoping import tenant_scope


def record(home, user, child, day, kind="home_visit"):
    with tenant_scope([child.school_id]):
        return services.care_contact_record(actor=user, child_id=child.id, kind=kind, happened_on=day, notes="…")


def test_teacher_records_contact_for_assigned_child(home, today):
    contact = record(home, home.gupei_teacher, home.g[0], today)
    assert contact.semester_id == home.semester.id
    assert contact.made_by_id == home.gupei_teacher.id


def test_teacher_cannot_record_for_unassigned_child(home, today):
    with pytest.raises(Child.DoesNotExist):
        record(home, home.gupei_teacher, home.g[2], today)


def test_other_school_child_is_not_found(home, today):
    with pytest.raises(Child.DoesNotExist):
        record(home, home.gupei_admin, home.m[0], today)


def test_clerk_cannot_record_contacts(home, today):
    with pytest.raises(Child.DoesNotExist):
        record(home, home.gupei_clerk, home.g[0], today)


def test_future_date_refused(home, today):
    with pytest.raises(ValidationError) as exc:
        record(home, home.gupei_admin, home.g[0], today + dt.timedelta(days=1))
    assert "future" in str(exc.value.message_dict["happened_on"])


def test_date_outside_every_semester_refused_with_the_semesters_named(home, today):
    with pytest.raises(ValidationError) as exc:
        record(home, home.gupei_admin, home.g[0], home.semester.start - dt.timedelta(days=1))
    message = " ".join(exc.value.message_dict["happened_on"])
    assert "not inside any semester" in message and home.semester.name in message
    with tenant_scope([home.gupei.id]):
        assert CareContact.objects.count() == 0


def test_unknown_kind_refused(home, today):
    with pytest.raises(ValidationError):
        record(home, home.gupei_admin, home.g[0], today, kind="phone_call")


def test_overlapping_semester_refused(home):
    with pytest.raises(ValidationError, match="overlaps"):
        services.semester_create(actor=None, district=home.district, name="重叠",
                                 start=home.semester.end - dt.timedelta(days=3),
                                 end=home.semester.end + dt.timedelta(days=30))
    # Another district may use the same dates.
    services.semester_create(actor=None, district=home.other_district, name="重叠",
                             start=home.semester.start, end=home.semester.end)


def test_tracker_grid_for_teacher_shows_only_assigned(home, today):
    record(home, home.gupei_teacher, home.g[0], today, kind="talk")
    record(home, home.gupei_teacher, home.g[0], today - dt.timedelta(days=2), kind="talk")
    with tenant_scope([home.gupei.id]):
        grid = selectors.contact_tracker_grid(home.gupei_teacher, home.gupei, home.semester)
    assert [r["id"] for r in grid.rows] == [home.g[0].id, home.g[1].id]
    row = grid.rows[0]
    assert row["cells"]["talk"] == {"count": 2, "last": today}
    assert row["cells"]["home_visit"]["count"] == 0
    assert all(r["can_record"] for r in grid.rows)


def test_tracker_grid_filters(home, today):
    with tenant_scope([home.gupei.id]):
        grid = selectors.contact_tracker_grid(home.gupei_admin, home.gupei, home.semester, class_name="五(2)班")
        assert [r["id"] for r in grid.rows] == [home.g[3].id]
        grid = selectors.contact_tracker_grid(home.gupei_admin, home.gupei, home.semester,
                                              proxy_parent=home.gupei_teacher)
        assert {r["id"] for r in grid.rows} == {home.g[0].id, home.g[1].id}
        assert grid.proxy_parents == [home.gupei_teacher]
        assert grid.classes == ["四(1)班", "五(2)班"]


def test_new_semester_adopts_records_dated_inside_it(home, today):
    from schools.models import Activity

    day = home.semester.end + dt.timedelta(days=10)
    with tenant_scope([home.gupei.id]):
        act = Activity.objects.create(school=home.gupei, date=day, kind="training", title="寒假")
    later = services.semester_create(actor=None, district=home.district, name="下学期",
                                     start=home.semester.end + dt.timedelta(days=5),
                                     end=home.semester.end + dt.timedelta(days=100))
    with tenant_scope([home.gupei.id]):
        act.refresh_from_db()
    assert act.semester_id == later.id


def test_guardian_agrees_with_assignments(home):
    assert home.gupei_teacher.has_perm("schools.care_for_child", home.g[0])
    assert not home.gupei_teacher.has_perm("schools.care_for_child", home.g[2])


def test_contacts_for_child_respects_visibility(home, today):
    record(home, home.gupei_teacher, home.g[0], today)
    with tenant_scope([home.gupei.id]):
        assert selectors.contacts_for_child(home.gupei_teacher, home.g[0].id).count() == 1
        with pytest.raises(Child.DoesNotExist):
            selectors.contacts_for_child(home.gupei_teacher, home.g[2].id)
        assert selectors.work_record_entries_visible_to(home.gupei_clerk, home.gupei).count() == 0
        overview = selectors.home_overview(home.gupei)
        assert len(overview["rules"]) == 9 and overview["proxy_parents"][0].user == home.gupei_teacher
