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


# ---------------------------------------------------------------- correcting and undoing a contact
def _photo(seed):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.support.images import jpeg_bytes

    return SimpleUploadedFile(f"c{seed}.jpg", jpeg_bytes(seed), content_type="image/jpeg")


def _fresh(contact):
    with tenant_scope([contact.school_id]):
        return CareContact.objects.get(pk=contact.pk)


def test_author_corrects_kind_date_and_notes_and_the_update_is_logged(home, today):
    from tenancy.models import AccessLog

    contact = record(home, home.gupei_teacher, home.g[0], today)
    with tenant_scope([home.gupei.id]):
        services.care_contact_update(actor=home.gupei_teacher, contact=contact, kind="talk",
                                     happened_on=today - dt.timedelta(days=3), notes="聊了学习")
        log = AccessLog.objects.get(action="update", object_type="schools.carecontact", object_id=str(contact.pk))
    saved = _fresh(contact)
    assert (saved.kind, saved.happened_on, saved.notes) == ("talk", today - dt.timedelta(days=3), "聊了学习")
    assert log.user_id == home.gupei_teacher.id
    assert log.detail == {"fields": ["happened_on", "kind", "notes"]}  # names only, never the notes


def test_update_keeps_the_record_rules_and_writes_nothing_when_refused(home, today):
    contact = record(home, home.gupei_admin, home.g[0], today)
    for bad in ({"happened_on": today + dt.timedelta(days=1)},
                {"happened_on": home.semester.start - dt.timedelta(days=1)},
                {"kind": "phone_call"}, {"notes": "长" * 2001}, {"child": home.g[1]}):
        with tenant_scope([home.gupei.id]), pytest.raises(ValidationError):
            services.care_contact_update(actor=home.gupei_admin, contact=contact, **bad)
        saved = _fresh(contact)
        assert (saved.kind, saved.happened_on, saved.notes, saved.child_id) == ("home_visit", today, "…", home.g[0].id)
        assert (contact.kind, contact.happened_on) == ("home_visit", today)  # the instance is untouched too


def test_a_new_date_moves_the_contact_to_its_semester(home, today):
    earlier = services.semester_create(actor=None, district=home.district, name="上学期",
                                       start=home.semester.start - dt.timedelta(days=120),
                                       end=home.semester.start - dt.timedelta(days=1))
    contact = record(home, home.gupei_admin, home.g[0], today)
    with tenant_scope([home.gupei.id]):
        services.care_contact_update(actor=home.gupei_admin, contact=contact,
                                     happened_on=earlier.start + dt.timedelta(days=5))
    assert _fresh(contact).semester_id == earlier.id


def test_only_the_author_or_the_school_admin_may_change_a_contact(home, today):
    from django.core.exceptions import PermissionDenied

    by_admin = record(home, home.gupei_admin, home.g[0], today)
    with tenant_scope([home.gupei.id]):
        # The proxy parent of the child, but not the author.
        with pytest.raises(PermissionDenied):
            services.care_contact_update(actor=home.gupei_teacher, contact=by_admin, notes="改")
        with pytest.raises(PermissionDenied):
            services.care_contact_update(actor=home.gupei_clerk, contact=by_admin, notes="改")
    by_teacher = record(home, home.gupei_teacher, home.g[1], today)
    with tenant_scope([home.gupei.id]):
        services.care_contact_update(actor=home.gupei_admin, contact=by_teacher, notes="校长补充")
    assert _fresh(by_admin).notes == "…" and _fresh(by_teacher).notes == "校长补充"


def test_deleting_a_contact_deletes_its_photos_and_their_files(home, today, settings, tmp_path,
                                                              django_capture_on_commit_callbacks):
    from django.core.files.storage import default_storage

    from schools.models import Evidence

    settings.MEDIA_ROOT = str(tmp_path)
    contact = record(home, home.gupei_teacher, home.g[0], today)
    with tenant_scope([home.gupei.id]):
        item = services.evidence_upload(actor=home.gupei_teacher, school=home.gupei, uploaded_file=_photo(1),
                                        attach_to=contact)
    names = [item.file.name, item.thumbnail.name]
    assert all(default_storage.exists(n) for n in names)
    with django_capture_on_commit_callbacks(execute=True), tenant_scope([home.gupei.id]):
        services.care_contact_delete(actor=home.gupei_teacher, contact=contact)
    with tenant_scope([home.gupei.id]):
        assert not Evidence.objects.filter(pk=item.pk).exists()
        assert not CareContact.objects.filter(pk=contact.pk).exists()
    assert not any(default_storage.exists(n) for n in names)


def test_contact_photos_are_removed_by_the_author_not_by_the_clerk(home, today, settings, tmp_path):
    from django.core.exceptions import PermissionDenied

    from schools.models import Evidence

    settings.MEDIA_ROOT = str(tmp_path)
    contact = record(home, home.gupei_teacher, home.g[0], today)
    with tenant_scope([home.gupei.id]):
        item = services.evidence_upload(actor=home.gupei_teacher, school=home.gupei, uploaded_file=_photo(2),
                                        attach_to=contact)
        with pytest.raises(PermissionDenied):
            services.evidence_delete(actor=home.gupei_clerk, evidence=item)
        assert Evidence.objects.filter(pk=item.pk).exists()
        services.evidence_delete(actor=home.gupei_teacher, evidence=item)
        assert not Evidence.objects.filter(pk=item.pk).exists()


def test_contact_selectors_follow_the_childs_personal_record(home, today):
    mine = record(home, home.gupei_teacher, home.g[0], today)
    other = record(home, home.gupei_admin, home.g[2], today, kind="letter")
    with tenant_scope([home.gupei.id]):
        assert list(selectors.contacts_visible_to(home.gupei_teacher, home.gupei)) == [mine]
        assert set(selectors.contacts_visible_to(home.gupei_admin, home.gupei)) == {mine, other}
        assert not selectors.contacts_visible_to(home.gupei_clerk, home.gupei).exists()
        assert [c.pk for c in selectors.contacts_list(home.gupei_admin, home.gupei, kind="letter")] == [other.pk]
        with pytest.raises(CareContact.DoesNotExist):
            selectors.contact_get_for_view(home.gupei_teacher, home.gupei, other.pk)
        view = selectors.contact_get_for_view(home.gupei_teacher, home.gupei, mine.pk)
        assert view.can_edit and view.can_add_evidence
        view = selectors.contact_get_for_view(home.gupei_admin, home.gupei, mine.pk)
        assert view.can_edit  # the school admin may correct anyone's contact
