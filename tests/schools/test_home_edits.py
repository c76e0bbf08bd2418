"""Corrections of proxy-parent and study records: work record entries, tutoring sessions, proxy
assignments and study pairs. Each service validates like its create service, writes nothing on bad
input, and leaves an access-log row."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from schools import selectors, services
from schools.models import Child, ProxyAssignment, StudyPair, TutoringSession, WorkRecordEntry
from tenancy import services as ts
from tenancy.models import AccessLog
from tenancy.roles import Role
from tenancy.scoping import tenant_scope
from tests.support.schools import home, semester, today  # noqa: F401  (fixtures)


def _logged(school, obj, action) -> bool:
    with tenant_scope([school.id]):
        return AccessLog.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk),
                                        action=action).exists()


def _other_teacher(tree):
    user = ts.user_create(username="gupei_second_teacher", password=None)
    ts.membership_grant(user=user, role=Role.TEACHER, school=tree.gupei)
    return user


# ---------------------------------------------------------------- work record book
@pytest.fixture
def entry(home, today):
    with tenant_scope([home.gupei.id]):
        return services.work_record_add(actor=home.gupei_teacher, school=home.gupei, date=today,
                                        text="家访准备", child=home.g[0])


def test_author_corrects_an_entry_and_the_semester_follows_the_date(home, entry, today):
    day = today - dt.timedelta(days=70)  # before the semester (it starts 60 days ago)
    with tenant_scope([home.gupei.id]):
        services.work_record_update(actor=home.gupei_teacher, entry=entry, date=day, text="改正", child=home.g[1])
        entry.refresh_from_db()
    assert (entry.date, entry.text, entry.child_id, entry.semester_id) == (day, "改正", home.g[1].id, None)
    assert _logged(home.gupei, entry, AccessLog.Action.UPDATE)


def _refused(field, service, **kwargs):
    with pytest.raises(ValidationError) as exc:
        service(**kwargs)
    assert field in exc.value.message_dict


def test_bad_corrections_write_nothing(home, entry, today):
    with tenant_scope([home.gupei.id]):
        _refused("text", services.work_record_update, actor=home.gupei_teacher, entry=entry, text="   ")
        _refused("date", services.work_record_update, actor=home.gupei_teacher, entry=entry,
                 date=today + dt.timedelta(days=1))
        assert WorkRecordEntry.objects.values_list("text", "date").get() == ("家访准备", today)


def test_an_entry_cannot_be_moved_to_an_unassigned_child(home, entry):
    with tenant_scope([home.gupei.id]):
        with pytest.raises(Child.DoesNotExist):
            services.work_record_update(actor=home.gupei_teacher, entry=entry, child=home.g[2])
        assert WorkRecordEntry.objects.get().child_id == home.g[0].id


def test_an_old_entry_about_a_child_no_longer_assigned_can_still_be_corrected(home, entry, today):
    with tenant_scope([home.gupei.id]):
        services.proxy_assignment_end(actor=home.gupei_admin, assignment=home.g[0].proxy_assignments.get(),
                                      ends_on=today - dt.timedelta(days=1))
        services.work_record_update(actor=home.gupei_teacher, entry=entry, child=home.g[0], text="补记")
        assert WorkRecordEntry.objects.values_list("child_id", "text").get() == (home.g[0].id, "补记")


def test_only_the_author_or_the_school_admin_changes_an_entry(home, entry):
    other = _other_teacher(home)
    with tenant_scope([home.gupei.id]):
        for user in (other, home.gupei_clerk):
            with pytest.raises(PermissionDenied):
                services.work_record_update(actor=user, entry=entry, text="别人改")
            with pytest.raises(PermissionDenied):
                services.work_record_delete(actor=user, entry=entry)
        assert WorkRecordEntry.objects.get().text == "家访准备"
        services.work_record_update(actor=home.gupei_admin, entry=entry, text="校长改")
        assert WorkRecordEntry.objects.get().text == "校长改"
        services.work_record_delete(actor=home.gupei_teacher, entry=entry)
        assert not WorkRecordEntry.objects.exists()


def test_deleting_an_entry_is_logged(home, entry):
    pk = entry.pk
    with tenant_scope([home.gupei.id]):
        services.work_record_delete(actor=home.gupei_admin, entry=entry)
        assert not WorkRecordEntry.objects.filter(pk=pk).exists()
        assert AccessLog.objects.filter(object_type="schools.workrecordentry", object_id=str(pk),
                                        action=AccessLog.Action.DELETE, user=home.gupei_admin).exists()


# ---------------------------------------------------------------- study pairs and tutoring sessions
@pytest.fixture
def pair(home, today):
    with tenant_scope([home.gupei.id]):
        return services.study_pair_create(actor=None, school=home.gupei, teacher=home.gupei_teacher,
                                          child=home.g[2], starts_on=today - dt.timedelta(days=20), subject="数学")


@pytest.fixture
def session(home, pair, today):
    with tenant_scope([home.gupei.id]):
        return services.tutoring_session_record(actor=home.gupei_teacher, pair=pair,
                                                date=today - dt.timedelta(days=10), minutes=40, notes="分数")


def test_tutor_corrects_a_session(home, session, today):
    with tenant_scope([home.gupei.id]):
        services.tutoring_session_update(actor=home.gupei_teacher, session=session, date=today, minutes=45,
                                         notes="小数")
        assert TutoringSession.objects.values_list("date", "minutes", "notes", "semester_id").get() == (
            today, 45, "小数", home.semester.id)
    assert _logged(home.gupei, session, AccessLog.Action.UPDATE)


def test_bad_session_corrections_write_nothing(home, pair, session, today):
    bad = [("minutes", {"minutes": 0}), ("date", {"date": pair.starts_on - dt.timedelta(days=1)}),
           ("date", {"date": today + dt.timedelta(days=1)})]
    with tenant_scope([home.gupei.id]):
        for field, change in bad:
            _refused(field, services.tutoring_session_update, actor=home.gupei_teacher, session=session, **change)
            session.refresh_from_db()
        assert TutoringSession.objects.values_list("date", "minutes").get() == (today - dt.timedelta(days=10), 40)


def test_only_the_tutor_or_the_school_admin_changes_a_session(home, session):
    other = _other_teacher(home)
    with tenant_scope([home.gupei.id]):
        with pytest.raises(PermissionDenied):
            services.tutoring_session_update(actor=other, session=session, minutes=5)
        with pytest.raises(PermissionDenied):
            services.tutoring_session_delete(actor=other, session=session)
        assert TutoringSession.objects.get().minutes == 40
        pk = session.pk
        services.tutoring_session_delete(actor=home.gupei_admin, session=session)
        assert not TutoringSession.objects.exists()
        assert AccessLog.objects.filter(object_type="schools.tutoringsession", object_id=str(pk),
                                        action=AccessLog.Action.DELETE).exists()


def test_pair_dates_must_keep_its_sessions_inside(home, pair, session, today):
    with tenant_scope([home.gupei.id]):
        for change in ({"starts_on": today - dt.timedelta(days=5)}, {"ends_on": today - dt.timedelta(days=11)}):
            with pytest.raises(ValidationError) as exc:
                services.study_pair_update(actor=home.gupei_admin, pair=pair, **change)
            assert "outside the pair's dates" in " ".join(exc.value.messages)
            pair.refresh_from_db()
        # Ending through the old path checks the same.
        with pytest.raises(ValidationError):
            services.study_pair_end(actor=home.gupei_admin, pair=pair, ends_on=today - dt.timedelta(days=11))
        assert StudyPair.objects.values_list("starts_on", "ends_on").get() == (today - dt.timedelta(days=20), None)
        services.study_pair_update(actor=home.gupei_admin, pair=pair, starts_on=today - dt.timedelta(days=10),
                                   ends_on=today - dt.timedelta(days=10), subject="语文")
        assert StudyPair.objects.values_list("starts_on", "ends_on", "subject").get() == (
            today - dt.timedelta(days=10), today - dt.timedelta(days=10), "语文")
    assert _logged(home.gupei, pair, AccessLog.Action.UPDATE)


def test_pair_end_before_start_and_a_second_open_pair_are_refused(home, pair, today):
    with tenant_scope([home.gupei.id]):
        with pytest.raises(ValidationError) as exc:
            services.study_pair_update(actor=home.gupei_admin, pair=pair, ends_on=pair.starts_on - dt.timedelta(days=1))
        assert "ends_on" in exc.value.message_dict
        services.study_pair_end(actor=home.gupei_admin, pair=pair, ends_on=today - dt.timedelta(days=1))
        services.study_pair_create(actor=home.gupei_admin, school=home.gupei, teacher=home.gupei_teacher,
                                   child=home.g[2], starts_on=today)
        pair.refresh_from_db()
        with pytest.raises(ValidationError) as exc:
            services.study_pair_update(actor=home.gupei_admin, pair=pair, ends_on=None)
        assert "already paired" in " ".join(exc.value.messages)
        assert StudyPair.objects.filter(ends_on__isnull=True).count() == 1
        with pytest.raises(PermissionDenied):  # the teacher tutors; the archive's manager corrects pairs
            services.study_pair_update(actor=home.gupei_teacher, pair=pair, subject="x")


# ---------------------------------------------------------------- proxy assignments
def test_correcting_the_start_moves_the_proxy_parents_access(home, today):
    child = home.g[0]
    with tenant_scope([home.gupei.id]):
        assignment = child.proxy_assignments.get()
        assert child.id in selectors.assigned_child_ids(home.gupei_teacher)
        services.proxy_assignment_update(actor=home.gupei_admin, assignment=assignment,
                                         starts_on=today + dt.timedelta(days=3))
        assert child.id not in selectors.assigned_child_ids(home.gupei_teacher)
        services.proxy_assignment_update(actor=home.gupei_admin, assignment=assignment,
                                         starts_on=today - dt.timedelta(days=40))
        assert child.id in selectors.assigned_child_ids(home.gupei_teacher)
        assert ProxyAssignment.objects.get(child=child).starts_on == today - dt.timedelta(days=40)
    assert _logged(home.gupei, assignment, AccessLog.Action.UPDATE)


def test_assignment_corrections_keep_one_proxy_parent_at_a_time(home, today):
    child = home.g[0]
    with tenant_scope([home.gupei.id]):
        first = child.proxy_assignments.get()
        second = services.proxy_assignment_create(actor=home.gupei_admin, child=child, proxy_parent=home.gupei_admin,
                                                  starts_on=today - dt.timedelta(days=5))
        first.refresh_from_db()
        before = list(ProxyAssignment.objects.filter(child=child).order_by("starts_on")
                      .values_list("starts_on", "ends_on"))
        bad = [
            (first, {"ends_on": today - dt.timedelta(days=3)}),  # into the second one
            (first, {"ends_on": None}),  # reopened next to the open one
            (second, {"starts_on": today - dt.timedelta(days=10)}),  # back into the first one
            (second, {"ends_on": today - dt.timedelta(days=6)}),  # ends before it starts
        ]
        for assignment, change in bad:
            with pytest.raises(ValidationError):
                services.proxy_assignment_update(actor=home.gupei_admin, assignment=assignment, **change)
            assignment.refresh_from_db()
        assert list(ProxyAssignment.objects.filter(child=child).order_by("starts_on")
                    .values_list("starts_on", "ends_on")) == before
        # The new proxy parent holds the guardian permission, the old one does not.
        assert child.id in selectors.assigned_child_ids(home.gupei_admin)
        assert child.id not in selectors.assigned_child_ids(home.gupei_teacher)
        # Moving the handover two days later is fine, and access follows it today.
        services.proxy_assignment_update(actor=home.gupei_admin, assignment=second,
                                         starts_on=today + dt.timedelta(days=2))
        services.proxy_assignment_update(actor=home.gupei_admin, assignment=first,
                                         ends_on=today + dt.timedelta(days=1))
        assert child.id in selectors.assigned_child_ids(home.gupei_teacher)
        assert child.id not in selectors.assigned_child_ids(home.gupei_admin)
        with pytest.raises(PermissionDenied):
            services.proxy_assignment_update(actor=home.gupei_teacher, assignment=first, ends_on=today)
