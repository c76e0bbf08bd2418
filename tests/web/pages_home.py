"""Isolation cases of the home pages (schools/urls.py): every page with a parameter, with an
object owned by the school under test. Writes are POSTs to the same URLs and are checked by the
services (tests/web/test_home_*.py); here the GET of each page is walked."""
from __future__ import annotations

import datetime as dt
import itertools

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from schools import services
from schools.models import RuleKind, StudyPair
from tenancy.scoping import tenant_scope
from tests.support.access_log import Logged
from tests.web.pages import Page, register

_seq = itertools.count(1)


def _today():
    return timezone.localdate()


def _school(t, school):
    return {"school_pk": school.pk}


def _in(school, fn):
    with tenant_scope([school.id]):
        return fn()


def _site(t, school):
    site = _in(school, lambda: services.activity_site_create(
        actor=None, school=school, room="活动室", opened_on=dt.date(2020, 9, 1), area_m2=60))
    return {"school_pk": school.pk, "pk": site.pk}


def _equipment(t, school):
    item = _in(school, lambda: services.equipment_create(
        actor=None, school=school, kind="computer", quantity=2, acquired_on=dt.date(2021, 3, 1)))
    return {"school_pk": school.pk, "pk": item.pk}


def _leader(t, school):
    member = _in(school, lambda: services.leadership_member_create(
        actor=None, school=school, person_name="张校长", title="组长", is_leader=True))
    return {"school_pk": school.pk, "pk": member.pk}


def _rule(t, school):
    return {"school_pk": school.pk, "kind": RuleKind.ANNUAL_PLAN}


def make_activity(school, **kw):
    fields = {"date": _today(), "kind": "theme_activity", "title": f"活动{next(_seq)}", "text_record": "记录", **kw}
    return _in(school, lambda: services.activity_create(actor=None, school=school, **fields))


def _activity(t, school):
    return {"school_pk": school.pk, "pk": make_activity(school).pk}


def _meeting(t, school):
    meeting = _in(school, lambda: services.training_meeting_create(
        actor=None, school=school, date=_today(), topic="代理家长培训"))
    return {"school_pk": school.pk, "pk": meeting.pk}


def _child(school):
    from tests.support.schools import add_child

    return add_child(school, next(_seq) + 500)


def _pair(t, school):
    teacher = _teacher(t, school)
    child = _child(school)
    pair = _in(school, lambda: services.study_pair_create(actor=None, school=school, teacher=teacher, child=child,
                                                          starts_on=_today() - dt.timedelta(days=10)))
    return {"school_pk": school.pk, "pk": pair.pk}


def _teacher(t, school):
    """A teacher-like user of the school: its teacher, or the village school's admin."""
    return {t.gupei: t.gupei_teacher, t.menzhuang: t.menzhuang_teacher, t.far_centre: t.other_teacher,
            t.far_village: t.other_village_admin}.get(school, t.village_a_admin)


def _session(t, school):
    kwargs = _pair(t, school)
    session = _in(school, lambda: services.tutoring_session_record(
        actor=None, pair=StudyPair.objects.get(pk=kwargs["pk"]), date=_today(), minutes=30, notes="分数"))
    return {**kwargs, "session_pk": session.pk}


def _work_record(t, school):
    """An entry written by the school's teacher (the author and the school admin may open it)."""
    entry = _in(school, lambda: services.work_record_add(
        actor=_teacher(t, school), school=school, date=_today(), text="家访准备"))
    return {"school_pk": school.pk, "pk": entry.pk}


def _assignment(t, school):
    """A child assigned to the school's teacher (who then sees the assignment, read-only)."""
    child = _child(school)
    assignment = _in(school, lambda: services.proxy_assignment_create(
        actor=None, child=child, proxy_parent=_teacher(t, school), starts_on=_today() - dt.timedelta(days=10)))
    return {"school_pk": school.pk, "pk": assignment.pk}


def make_photo(school, seed=0, attach_to=None):
    from tests.support.images import jpeg_bytes

    data = jpeg_bytes(seed + next(_seq) * 7)
    return _in(school, lambda: services.evidence_upload(
        actor=None, school=school, uploaded_file=SimpleUploadedFile("p.jpg", data), attach_to=attach_to))


def _evidence(t, school):
    activity = make_activity(school)
    return {"school_pk": school.pk, "pk": make_photo(school, attach_to=activity).pk}


def photo_viewed(t, school, kwargs, data, user):
    """Opening a photo (or its thumbnail) is a read of it: one view row (schools.downloads)."""
    return [Logged(school.pk, "view", "schools.evidence", str(kwargs["pk"]), user.pk)]


for page in [
    Page("home_setup", _school),
    Page("home_site_edit", _site),
    Page("home_equipment_edit", _equipment),
    Page("home_leader_edit", _leader),
    Page("home_rule_detail", _rule),
    Page("activities_week", _school),
    Page("activity_create", _school, teacher_status=302, notes="readers are sent to the week"),
    Page("activity_themes", _school),
    Page("activity_detail", _activity),
    Page("activity_edit", _activity, teacher_status=302, notes="readers are sent to the detail"),
    Page("proxy_parents", _school),
    Page("meetings", _school),
    Page("meeting_detail", _meeting),
    Page("meeting_edit", _meeting, teacher_status=302, notes="readers are sent to the detail"),
    Page("assignment_edit", _assignment, teacher_status=302, overseer_status=404, clerk_status=302,
         notes="the child's proxy parent and the clerk are sent to the list; overseers see no child"),
    Page("work_records", _school),
    Page("work_record_detail", _work_record, overseer_status=404, clerk_status=404, notes="the author and the school admin only"),
    Page("work_record_edit", _work_record, overseer_status=404, clerk_status=404, notes="the author and the school admin only"),
    Page("study_pairs", _school),
    Page("study_pair_detail", _pair, clerk_status=404, notes="the school admin sees every pair; the clerk none"),
    Page("study_pair_edit", _pair, teacher_status=302, clerk_status=404,
         notes="the paired teacher is sent to the detail; the clerk sees no pair"),
    Page("tutoring_session_edit", _session, clerk_status=404, notes="the paired teacher and the school admin"),
    Page("evidence_file", _evidence, logs=photo_viewed),
    Page("evidence_thumb", _evidence, logs=photo_viewed),
]:
    register(page)
