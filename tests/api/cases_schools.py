"""Isolation cases for the school's home. Labels as in harness.py ("a" gupei, "village"
village_a, "b" menzhuang, "far" another district); "a2" is a second object of school A, used for a
teacher with one assigned child ("proxy_parent" runs: the assigned one 200, the other 404)."""
from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from schools import crypto
from schools import services as ss
from schools.models import ChildStatusChange, ReusedEvidenceFlag, Semester
from tenancy import services as ts
from tenancy.roles import Role
from tenancy.scoping import district_scope, tenant_scope
from tests.support.documents import pdf_bytes
from tests.support.images import jpeg_upload

from .harness import (
    OTHER_DISTRICT_ROLES,
    SCHOOL_OWNED_SEES,
    Case,
    ProxyParentCase,
    district_school_ids,
    logged,
    logged_per_school,
    register,
)

PDF = pdf_bytes("plan")
ALL_ROLES = ("gupei_admin", "menzhuang_admin", "bureau_admin", "bureau_inspector", "gupei_township", "gupei_teacher",
             "gupei_clerk")


def today():
    return timezone.localdate()


def jpeg(seed: int) -> SimpleUploadedFile:
    return jpeg_upload(seed, shapes=8, min_side=8)


def semester(tree, district=None) -> Semester:
    """The semester around today of `district` (the tree's by default); both districts get one."""
    district = district or tree.district
    with district_scope(district):
        existing = Semester.objects.filter(district=district).first()
    if existing:
        return existing
    for each in (tree.district, tree.other_district):
        ss.semester_create(actor=None, district=each, name="本学期",
                           start=today() - dt.timedelta(days=60), end=today() + dt.timedelta(days=60))
    with district_scope(district):
        return Semester.objects.get(district=district)


_n = iter(range(1, 10**6))


def child(school, **extra):
    n = next(_n)
    fields = dict(name=f"孩子{n}", gender="female", grade=4, class_name="四(1)班", left_behind_kind="both",
                  guardian_name="王奶奶", guardian_phone="13800001111", wellbeing_notes="想念妈妈",
                  id_number=crypto.with_checksum(f"34118220160501{n % 1000:03d}"), **extra)
    with tenant_scope([school.id]):
        return ss.child_create(actor=None, school=school, status_since=today() - dt.timedelta(days=90), **fields)


def in_scope(scope_school, fn, *args, **kwargs):
    with tenant_scope([scope_school.id]):
        return fn(*args, **kwargs)


def far_admin(tree):
    user = ts.user_create(username="far_admin", password=None)
    ts.membership_grant(user=user, role=Role.SCHOOL_ADMIN, school=tree.far_school)
    return user


def assign(tree, kid, teacher=None):
    teacher = teacher or tree.gupei_teacher
    return in_scope(kid.school, ss.proxy_assignment_create, actor=None, child=kid, proxy_parent=teacher,
                    starts_on=today() - dt.timedelta(days=30))


def child_body(school, name="新孩子"):
    return {"school": school.id, "name": name, "gender": "male", "grade": 3, "class_name": "三(1)班",
            "left_behind_kind": "father"}


# Records about a child. The materials clerk (BASIC level) sees none of them.
CHILD_SEES = {"gupei_admin": {"a", "a2"}, "menzhuang_admin": {"b"}, "gupei_clerk": set()}
MATERIALS_WRITE = {"gupei_admin": {"a"}, "menzhuang_admin": {"b"}, "gupei_clerk": {"a"}}
MATERIALS_CREATE = {
    "gupei_admin": {"a": 201}, "menzhuang_admin": {"b": 201}, "bureau_admin": {"a": 403, "b": 403},
    "gupei_township": {"a": 403}, "gupei_teacher": {"a": 403}, "gupei_clerk": {"a": 201},
    # The other district's bureau sees its school "far" but does not manage its materials.
    "other_bureau_admin": {"far": 403},
}


def _children(tree):
    return {"a": child(tree.gupei), "a2": child(tree.gupei), "village": child(tree.village_a),
            "b": child(tree.menzhuang), "far": child(tree.far_school)}


def _children_proxy(tree, objs):
    assign(tree, objs["a"])
    return tree.gupei_teacher, "a", "a2"


register(Case(
    basename="children",
    make=_children,
    # The bureau, the township and an unassigned teacher see no child; the clerk sees the name,
    # grade and class only (the harness fails any sensitive field sent to it).
    sees=CHILD_SEES | {"gupei_clerk": {"a", "a2"}},
    write_ok={"update": {"gupei_admin": {"a", "a2"}, "menzhuang_admin": {"b"}},
              "partial_update": {"gupei_admin": {"a", "a2"}, "menzhuang_admin": {"b"}}},
    update_payload=lambda c: {"name": "改名", "gender": "male", "grade": 5, "class_name": "五(1)班",
                              "left_behind_kind": "mother"},
    snapshot=lambda c: (c.name, c.grade, c.class_name),
    create_payloads=lambda tree, objs: {"a": child_body(tree.gupei), "b": child_body(tree.menzhuang),
                                        "far": child_body(tree.far_school)},
    create_expect={"gupei_admin": {"a": 201}, "menzhuang_admin": {"b": 201}, "bureau_admin": {"a": 403, "b": 403},
                   "bureau_inspector": {"a": 403, "b": 403}, "gupei_township": {"a": 403}, "gupei_teacher": {"a": 403},
                   "gupei_clerk": {"a": 403}, "other_bureau_admin": {"far": 403},
                   "other_bureau_inspector": {"far": 403}},
    # A proxy parent reads their child but does not edit the archive (update: 403 on theirs).
    proxy_parent=ProxyParentCase(_children_proxy, create_expect={"a": 403}),
))


def _status_changes(tree):
    kids = _children(tree)
    with tenant_scope([k.school_id for k in kids.values()]):
        out = {label: ChildStatusChange.objects.get(child=k) for label, k in kids.items()}
    for label, k in kids.items():
        out[f"_child_{label}"] = k
    return out


def _strip(make):
    """Cases keep the children they were built on under "_child_<label>" for the proxy setup;
    the generic runs must not treat those as labelled objects."""
    def wrapped(tree):
        objs = make(tree)
        wrapped.children = {k: v for k, v in objs.items() if k.startswith("_")}
        return {k: v for k, v in objs.items() if not k.startswith("_")}
    return wrapped


def _proxy_via(make_wrapped, label="a", other="a2"):
    def setup(tree, objs):
        assign(tree, make_wrapped.children[f"_child_{label}"])
        return tree.gupei_teacher, label, other
    return setup


status_make = _strip(_status_changes)
register(Case(
    basename="child-status-changes",
    make=status_make,
    sees=CHILD_SEES,
    # A status change updates the child's record (its status): logged as an update of the child.
    logs=lambda action, change, user: logged(change, "update", user, object_type="schools.child",
                                             object_id=change.child_id),
    create_payloads=lambda tree, objs: {
        label: {"child": status_make.children[f"_child_{label}"].id, "status": "transferred",
                "since": today().isoformat(), "note": "转学"} for label in ("a", "b", "far")},
    create_expect={"gupei_admin": {"a": 201}, "menzhuang_admin": {"b": 201}, "gupei_clerk": {"a": 403}},
    proxy_parent=ProxyParentCase(
        _proxy_via(status_make),
        create_payloads=lambda tree, objs: {
            label: {"child": status_make.children[f"_child_{label}"].id, "status": "transferred",
                    "since": today().isoformat()} for label in ("a", "a2")},
        create_expect={"a": 403},  # their own child: seen, but the archive is the admin's
    ),
))

register(Case(
    basename="child-consents",
    make=_children,
    sees=CHILD_SEES,
    write_ok={"update": {"gupei_admin": {"a", "a2"}, "menzhuang_admin": {"b"}},
              "partial_update": {"gupei_admin": {"a", "a2"}, "menzhuang_admin": {"b"}}},
    update_payload=lambda c: {"on": today().isoformat(), "method": "电话"},
    snapshot=lambda c: (c.consent, c.guardian_phone, c.wellbeing_notes),
    proxy_parent=ProxyParentCase(_children_proxy),
))


def _assignments(tree):
    kids = _children(tree)
    far = far_admin(tree)
    return {
        "a": assign(tree, kids["a"], tree.gupei_admin),
        "a2": assign(tree, kids["a2"], tree.gupei_admin),
        "village": assign(tree, kids["village"], tree.village_a_admin),
        "b": assign(tree, kids["b"], tree.menzhuang_teacher),
        "far": assign(tree, kids["far"], far),
    }


def _assignment_proxy(tree, objs):
    kid = objs["a"].child
    with tenant_scope([tree.gupei.id]):
        objs["t"] = ss.proxy_assignment_create(actor=None, child=kid, proxy_parent=tree.gupei_teacher,
                                               starts_on=today())
    # The teacher sees the history of their own child (also the ended assignment "a"), not a2's.
    return tree.gupei_teacher, "t", "a2"


register(Case(
    basename="proxy-assignments",
    make=_assignments,
    sees=CHILD_SEES,
    write_ok={"update": {"gupei_admin": {"a", "a2"}, "menzhuang_admin": {"b"}},
              "partial_update": {"gupei_admin": {"a", "a2"}, "menzhuang_admin": {"b"}}},
    # A date correction through services.proxy_assignment_update (ending is one).
    update_payload=lambda a: {"starts_on": (today() - dt.timedelta(days=20)).isoformat(),
                              "ends_on": today().isoformat()},
    snapshot=lambda a: (a.starts_on, a.ends_on),
    create_payloads=lambda tree, objs: {
        "a": {"child": child(tree.gupei).id, "proxy_parent": tree.gupei_teacher.id, "starts_on": today().isoformat()},
        "b": {"child": child(tree.menzhuang).id, "proxy_parent": tree.menzhuang_teacher.id},
    },
    create_expect={"gupei_admin": {"a": 201}, "menzhuang_admin": {"b": 201}, "gupei_clerk": {"a": 403}},
    proxy_parent=ProxyParentCase(
        _assignment_proxy,
        create_payloads=lambda tree, objs: {
            label: {"child": objs[label].child_id, "proxy_parent": tree.gupei_teacher.id} for label in ("t", "a2")},
        create_expect={"t": 403},
    ),
))


def _profiles(tree):
    far = far_admin(tree)
    return {
        "a": in_scope(tree.gupei, ss.staff_profile_set, actor=None, school=tree.gupei, user=tree.gupei_teacher,
                      is_proxy_parent=False),
        "village": in_scope(tree.village_a, ss.staff_profile_set, actor=None, school=tree.village_a,
                            user=tree.village_a_admin, is_proxy_parent=False),
        "b": in_scope(tree.menzhuang, ss.staff_profile_set, actor=None, school=tree.menzhuang,
                      user=tree.menzhuang_teacher, is_proxy_parent=False),
        "far": in_scope(tree.far_school, ss.staff_profile_set, actor=None, school=tree.far_school, user=far,
                        is_proxy_parent=False),
    }


register(Case(
    basename="staff-profiles",
    make=_profiles,
    sees=SCHOOL_OWNED_SEES,
    write_ok={action: {"gupei_admin": {"a"}, "menzhuang_admin": {"b"}, "gupei_township": {"a", "village"},
                       "bureau_admin": {"a", "village", "b"}, "other_bureau_admin": {"far"}}
              for action in ("update", "partial_update")},
    update_payload=lambda p: {"is_proxy_parent": True, "title": "代理家长"},
    snapshot=lambda p: (p.is_proxy_parent, p.title),
    create_payloads=lambda tree, objs: {
        "a": {"school": tree.gupei.id, "user": tree.gupei_clerk.id, "is_proxy_parent": False},
        "b": {"school": tree.menzhuang.id, "user": tree.menzhuang_admin.id, "is_proxy_parent": True},
    },
    create_expect={"gupei_admin": {"a": 201}, "menzhuang_admin": {"b": 201}, "bureau_admin": {"a": 201, "b": 201},
                   "gupei_township": {"a": 201}, "gupei_teacher": {"a": 403}, "gupei_clerk": {"a": 403}},
))


def _contacts(tree):
    semester(tree)
    kids = _children(tree)
    far = far_admin(tree)
    actors = {"a": tree.gupei_admin, "a2": tree.gupei_admin, "village": tree.village_a_admin,
              "b": tree.menzhuang_admin, "far": far}
    out = {}
    for label, kid in kids.items():
        out[label] = in_scope(kid.school, ss.care_contact_record, actor=actors[label], child_id=kid.id,
                              kind="home_visit", happened_on=today(), notes="家访")
    return out


def _contact_proxy(tree, objs):
    assign(tree, objs["a"].child)
    return tree.gupei_teacher, "a", "a2"


def _contact_payloads(tree, objs):
    return {label: {"child": objs[label].child_id, "kind": "talk", "happened_on": today().isoformat(),
                    "notes": "谈心"} for label in ("a", "b")}


register(Case(
    basename="care-contacts",
    make=_contacts,
    sees=CHILD_SEES,
    # The author or the school admin; a visible contact someone else may not change is 403.
    write_ok={action: {"gupei_admin": {"a", "a2"}, "menzhuang_admin": {"b"}}
              for action in ("update", "partial_update", "destroy")},
    update_payload=lambda c: {"kind": "letter", "happened_on": today().isoformat(), "notes": "改过的记录"},
    snapshot=lambda c: (c.kind, c.happened_on, c.notes),
    create_payloads=_contact_payloads,
    # A child you may not record for is 404 (never 403), whoever you are.
    create_expect={
        "gupei_admin": {"a": 201, "b": 404}, "menzhuang_admin": {"a": 404, "b": 201},
        **{role: {"a": 404, "b": 404}
           for role in ("bureau_admin", "bureau_inspector", "gupei_township", "gupei_teacher", "gupei_clerk", "nobody",
                        *OTHER_DISTRICT_ROLES)},
    },
    # The proxy parent records for their own child; the other child of the school is 404. They
    # do not delete the admin's contact (destroy: 403).
    proxy_parent=ProxyParentCase(
        _contact_proxy,
        create_payloads=lambda tree, objs: {
            label: {"child": objs[label].child_id, "kind": "talk", "happened_on": today().isoformat()}
            for label in ("a", "a2")},
        create_expect={"a": 201, "a2": 404},
    ),
))


def _work_records(tree):
    far = far_admin(tree)
    kid = child(tree.gupei)
    out = {}
    for label, school, actor in (("a", tree.gupei, tree.gupei_admin), ("village", tree.village_a, tree.village_a_admin),
                                 ("b", tree.menzhuang, tree.menzhuang_admin), ("far", tree.far_school, far)):
        out[label] = in_scope(school, ss.work_record_add, actor=actor, school=school, date=today(), text="记录",
                              child=kid if label == "a" else None)
    return out


def _work_record_proxy(tree, objs):
    kid = child(tree.gupei)
    assign(tree, kid)
    objs["t"] = in_scope(tree.gupei, ss.work_record_add, actor=tree.gupei_teacher, school=tree.gupei, date=today(),
                         text="我的记录", child=kid)
    # Their own book, not the admin's entry.
    return tree.gupei_teacher, "t", "a"


register(Case(
    basename="work-record-entries",
    make=_work_records,
    sees={"gupei_admin": {"a"}, "menzhuang_admin": {"b"}},
    # Each entry is written by the school admin (author and archive manager); a teacher correcting
    # their own entry is tests/api/test_schools_children.py::test_work_record_author_corrects_own_entry.
    write_ok={action: {"gupei_admin": {"a"}, "menzhuang_admin": {"b"}}
              for action in ("update", "partial_update", "destroy")},
    update_payload=lambda e: {"date": (today() - dt.timedelta(days=1)).isoformat(), "text": "改正的记录"},
    snapshot=lambda e: (e.date, e.text),
    create_payloads=lambda tree, objs: {
        "a": {"school": tree.gupei.id, "date": today().isoformat(), "text": "家访准备"},
        "b": {"school": tree.menzhuang.id, "date": today().isoformat(), "text": "家访准备"},
    },
    create_expect={"gupei_admin": {"a": 201}, "menzhuang_admin": {"b": 201}, "gupei_teacher": {"a": 201},
                   "gupei_township": {"a": 403}, "bureau_admin": {"a": 403, "b": 403},
                   "bureau_inspector": {"a": 403, "b": 403}, "gupei_clerk": {"a": 403}},
    # An entry about their own child is written; one naming a child they do not care for is not.
    proxy_parent=ProxyParentCase(
        _work_record_proxy,
        create_payloads=lambda tree, objs: {
            label: {"school": tree.gupei.id, "date": today().isoformat(), "text": "家访准备",
                    "child": objs[label].child_id} for label in ("t", "a")},
        create_expect={"t": 201},
        # The author corrects or removes their own entry (work_record_update/_delete).
        write_ok={action: {"t"} for action in ("update", "partial_update", "destroy")},
    ),
))


def _pairs(tree):
    far = far_admin(tree)
    kids = _children(tree)
    teachers = {"a": tree.gupei_admin, "a2": tree.gupei_admin, "village": tree.village_a_admin,
                "b": tree.menzhuang_teacher, "far": far}
    return {label: in_scope(kid.school, ss.study_pair_create, actor=None, school=kid.school, teacher=teachers[label],
                            child=kid, starts_on=today() - dt.timedelta(days=10), subject="数学")
            for label, kid in kids.items()}


def _pair_proxy(tree, objs):
    assign(tree, objs["a"].child)
    return tree.gupei_teacher, "a", "a2"


register(Case(
    basename="study-pairs",
    make=_pairs,
    sees=CHILD_SEES,
    write_ok={action: {"gupei_admin": {"a", "a2"}, "menzhuang_admin": {"b"}} for action in ("update", "partial_update")},
    # A correction through services.study_pair_update (ending is one).
    update_payload=lambda p: {"starts_on": (today() - dt.timedelta(days=5)).isoformat(),
                              "ends_on": today().isoformat(), "subject": "英语"},
    snapshot=lambda p: (p.starts_on, p.ends_on, p.subject),
    create_payloads=lambda tree, objs: {
        "a": {"school": tree.gupei.id, "teacher": tree.gupei_teacher.id, "child": child(tree.gupei).id,
              "subject": "语文"},
        "b": {"school": tree.menzhuang.id, "teacher": tree.menzhuang_teacher.id, "child": child(tree.menzhuang).id},
    },
    create_expect={"gupei_admin": {"a": 201}, "menzhuang_admin": {"b": 201}, "gupei_clerk": {"a": 403}},
    proxy_parent=ProxyParentCase(
        _pair_proxy,
        create_payloads=lambda tree, objs: {
            label: {"school": tree.gupei.id, "teacher": tree.gupei_teacher.id, "child": objs[label].child_id}
            for label in ("a", "a2")},
        create_expect={"a": 403},  # pairs are the admin's to make
    ),
))


def _sessions(tree):
    return {label: in_scope(pair.school, ss.tutoring_session_record, actor=None, pair=pair, date=today(), minutes=40)
            for label, pair in _pairs(tree).items()}


def _session_proxy(tree, objs):
    assign(tree, objs["a"].pair.child)
    return tree.gupei_teacher, "a", "a2"


register(Case(
    basename="tutoring-sessions",
    make=_sessions,
    sees=CHILD_SEES,
    # The pairs' teachers are the school admins (see _pairs); the menzhuang admin manages the archive.
    write_ok={action: {"gupei_admin": {"a", "a2"}, "menzhuang_admin": {"b"}}
              for action in ("update", "partial_update", "destroy")},
    update_payload=lambda s: {"date": (today() - dt.timedelta(days=1)).isoformat(), "minutes": 55, "notes": "改"},
    snapshot=lambda s: (s.date, s.minutes, s.notes),
    create_payloads=lambda tree, objs: {
        label: {"pair": objs[label].pair_id, "date": today().isoformat(), "minutes": 30} for label in ("a", "b")},
    create_expect={"gupei_admin": {"a": 201}, "menzhuang_admin": {"b": 201}},
    # The proxy parent sees the pair of their child, but only the pair's teacher records for it.
    proxy_parent=ProxyParentCase(
        _session_proxy,
        create_payloads=lambda tree, objs: {
            label: {"pair": objs[label].pair_id, "date": today().isoformat(), "minutes": 30} for label in ("a", "a2")},
        create_expect={"a": 403},
    ),
))


# ---------------------------------------------------------------- the home's records
register(Case(
    basename="semesters",
    make=lambda tree: {"own": semester(tree), "far": semester(tree, tree.other_district)},
    sees={role: {"own"} for role in ALL_ROLES} | {role: {"far"} for role in OTHER_DISTRICT_ROLES},
    create_payloads=lambda tree, objs: {
        label: {"district": d.id, "name": "下学期", "start": (today() + dt.timedelta(days=100)).isoformat(),
                "end": (today() + dt.timedelta(days=200)).isoformat()}
        for label, d in (("own", tree.district), ("far", tree.other_district))},
    create_expect={"bureau_admin": {"own": 201}, **{r: {"own": 403} for r in ALL_ROLES if r != "bureau_admin"},
                   "other_bureau_admin": {"far": 201},
                   **{r: {"far": 403} for r in OTHER_DISTRICT_ROLES if r != "other_bureau_admin"}},
    # The calendar is every school's: logged once per school of the district (_log_calendar).
    logs=lambda action, s, user: logged_per_school(district_school_ids(s.district_id), action, user,
                                                   "schools.semester", s.pk),
    # Only the district's bureau admin edits or deletes (no record points at these semesters).
    write_ok={a: {"bureau_admin": {"own"}, "other_bureau_admin": {"far"}}
              for a in ("update", "partial_update", "destroy")},
    update_payload=lambda s: {"name": "改名学期", "start": (s.start - dt.timedelta(days=1)).isoformat(),
                              "end": (s.end + dt.timedelta(days=1)).isoformat()},
    snapshot=lambda s: (s.name, s.start, s.end),
))


def _per_school(tree, fn, far=True):
    schools = {"a": tree.gupei, "village": tree.village_a, "b": tree.menzhuang}
    if far:
        schools["far"] = tree.far_school
    return {label: in_scope(school, fn, school) for label, school in schools.items()}


def _materials_case(basename, make, update_payload, snapshot, body, **extra):
    register(Case(
        basename=basename, make=make, sees=SCHOOL_OWNED_SEES,
        write_ok={a: MATERIALS_WRITE for a in ("update", "partial_update", "destroy")},
        update_payload=update_payload, snapshot=snapshot,
        create_payloads=lambda tree, objs: {label: body(tree, school) for label, school in
                                            (("a", tree.gupei), ("b", tree.menzhuang), ("far", tree.far_school))},
        create_expect=MATERIALS_CREATE, **extra,
    ))


_materials_case(
    "activity-sites",
    lambda tree: _per_school(tree, lambda s: ss.activity_site_create(
        actor=None, school=s, room="活动室", opened_on=today(), area_m2=60)),
    lambda site: {"room": "新活动室", "opened_on": today().isoformat(), "area_m2": "80.0"},
    lambda site: (site.room, site.area_m2),
    lambda tree, s: {"school": s.id, "room": "二楼", "opened_on": today().isoformat(), "area_m2": "45.5"},
)
_materials_case(
    "equipment",
    lambda tree: _per_school(tree, lambda s: ss.equipment_create(
        actor=None, school=s, kind="computer", quantity=4, acquired_on=today())),
    lambda item: {"kind": "tv", "quantity": 2, "acquired_on": today().isoformat()},
    lambda item: (item.kind, item.quantity),
    lambda tree, s: {"school": s.id, "kind": "family_phone", "quantity": 1, "acquired_on": today().isoformat()},
)
_materials_case(
    "leadership-members",
    lambda tree: _per_school(tree, lambda s: ss.leadership_member_create(
        actor=None, school=s, person_name="张校长", title="组长", is_leader=True)),
    lambda m: {"person_name": "李老师", "title": "副组长", "is_leader": False, "order": 2},
    lambda m: (m.person_name, m.title, m.is_leader),
    lambda tree, s: {"school": s.id, "person_name": "王老师", "title": "成员"},
)


def _themes(tree):
    sem = semester(tree)
    far_sem = semester(tree, tree.other_district)
    out = _per_school(tree, lambda s: ss.theme_schedule_set(actor=None, school=s, semester=sem, weekday=1,
                                                            theme="读书"), far=False)
    out["far"] = in_scope(tree.far_school, ss.theme_schedule_set, actor=None, school=tree.far_school,
                          semester=far_sem, weekday=1, theme="读书")
    return out


_materials_case(
    "theme-schedules", _themes,
    lambda t: {"theme": "体育"},
    lambda t: t.theme,
    lambda tree, s: {"school": s.id, "semester": semester(tree, s.district).id, "weekday": 2, "theme": "手工"},
)
_materials_case(
    "training-meetings",
    lambda tree: _per_school(tree, lambda s: ss.training_meeting_create(
        actor=None, school=s, date=today(), topic="以会代训", minutes="纪要")),
    lambda m: {"date": today().isoformat(), "topic": "改题", "minutes": "新纪要"},
    lambda m: (m.topic, m.minutes),
    lambda tree, s: {"school": s.id, "date": today().isoformat(), "topic": "培训",
                     "attendees": [tree.gupei_teacher.id] if s == tree.gupei else []},
)
_materials_case(
    "activities",
    lambda tree: _per_school(tree, lambda s: ss.activity_create(
        actor=None, school=s, date=today(), kind="theme_activity", title="读书会", text_record="记录")),
    lambda a: {"date": today().isoformat(), "kind": "competition", "title": "比赛"},
    lambda a: (a.kind, a.title),
    lambda tree, s: {"school": s.id, "date": today().isoformat(), "kind": "training", "title": "培训"},
)


def _evidence(tree):
    seeds = iter(range(100, 200))
    return _per_school(tree, lambda s: ss.evidence_upload(actor=None, school=s, uploaded_file=jpeg(next(seeds))))


def _contact_evidence_proxy(tree, objs):
    semester(tree)
    kids = [child(tree.gupei), child(tree.gupei)]
    for label, kid in zip(("t", "u"), kids):
        contact = in_scope(tree.gupei, ss.care_contact_record, actor=tree.gupei_admin, child_id=kid.id,
                           kind="letter", happened_on=today())
        objs[label] = in_scope(tree.gupei, ss.evidence_upload, actor=None, school=tree.gupei,
                               uploaded_file=jpeg(300 + len(objs)), attach_to=contact)
    assign(tree, kids[0])
    # Evidence of a contact follows the contact's child.
    return tree.gupei_teacher, "t", "u"


register(Case(
    basename="evidence",
    make=_evidence,
    sees=SCHOOL_OWNED_SEES,
    write_ok={"destroy": MATERIALS_WRITE},
    snapshot=lambda e: e.sha256,
    # Uploads are multipart (tests/api/test_schools_evidence.py runs them per role); a JSON body
    # without a file is refused before any permission is looked at.
    create_payloads=lambda tree, objs: {"a": {"school": tree.gupei.id}, "b": {"school": tree.menzhuang.id}},
    create_expect={role: {"a": 400, "b": 400} for role in ALL_ROLES},
    proxy_parent=ProxyParentCase(_contact_evidence_proxy),
))


def _flags(tree):
    """The same photo first at another school, then at the labelled school: the flag belongs to the
    latter ("a", "village", "b"); and one photo on two activities inside one school ("a_inside",
    "b_inside")."""
    out = {}
    pairs = (("a", tree.village_a, tree.gupei), ("village", tree.gupei, tree.village_a),
             ("b", tree.gupei, tree.menzhuang))
    for seed, (label, first, then) in enumerate(pairs):
        in_scope(first, ss.evidence_upload, actor=None, school=first, uploaded_file=jpeg(500 + seed * 37))
        item = in_scope(then, ss.evidence_upload, actor=None, school=then, uploaded_file=jpeg(500 + seed * 37))
        with tenant_scope([then.id]):
            out[label] = ReusedEvidenceFlag.objects.filter(evidence=item).first()
    for seed, (label, school) in enumerate((("a_inside", tree.gupei), ("b_inside", tree.menzhuang))):
        first, then = (in_scope(school, ss.activity_create, actor=None, school=school, date=today(),
                                kind="theme_activity", title=f"{label}{i}") for i in range(2))
        in_scope(school, ss.evidence_upload, actor=None, school=school, uploaded_file=jpeg(700 + seed * 37),
                 attach_to=first)
        item = in_scope(school, ss.evidence_upload, actor=None, school=school, uploaded_file=jpeg(700 + seed * 37),
                        attach_to=then)
        with tenant_scope([school.id]):
            out[label] = ReusedEvidenceFlag.objects.get(evidence=item)
    return out


register(Case(
    basename="evidence-reuse-flags",
    make=_flags,
    # A flag is seen only when both uses lie inside one reach of the viewer: the bureau its district,
    # the township admin its subtree (not "b": Menzhuang is outside it), the school admins and the
    # clerk (who manage the evidence) their own school only (not "a": the first use was at the
    # village school); a teacher none.
    sees={"bureau_admin": {"a", "village", "b", "a_inside", "b_inside"},
          "bureau_inspector": {"a", "village", "b", "a_inside", "b_inside"},
          "gupei_township": {"a", "village", "a_inside"},
          "gupei_admin": {"a_inside"}, "menzhuang_admin": {"b_inside"}, "gupei_clerk": {"a_inside"}},
))


def _rule_version(s, seed=0):
    return ss.rule_document_version_add(
        actor=None, school=s, kind="annual_plan", adopted_on=today(),
        uploaded_file=SimpleUploadedFile("plan.pdf", pdf_bytes(f"plan {s.id}-{seed}")))


register(Case(
    basename="rule-documents",
    make=lambda tree: {k: v.document for k, v in _per_school(tree, _rule_version).items()},
    sees=SCHOOL_OWNED_SEES,
))

register(Case(
    basename="rule-document-versions",
    make=lambda tree: _per_school(tree, _rule_version),
    sees=SCHOOL_OWNED_SEES,
    # Multipart only (tests/api/test_schools_rules.py); JSON without a file is 400.
    create_payloads=lambda tree, objs: {"a": {"school": tree.gupei.id, "kind": "management",
                                              "adopted_on": today().isoformat()}},
    create_expect={role: {"a": 400} for role in ALL_ROLES},
))


def _schools_with_semester(tree):
    semester(tree)
    return {"a": tree.gupei, "village": tree.village_a, "b": tree.menzhuang, "far": tree.far_school}


for _basename in ("school-dashboards", "contact-trackers", "rule-status"):
    register(Case(basename=_basename, make=_schools_with_semester, sees=SCHOOL_OWNED_SEES))
