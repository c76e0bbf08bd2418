"""Isolation cases for the tenancy endpoints: me, districts, schools, memberships."""
from __future__ import annotations

from tenancy import services
from tenancy.roles import Role

from .harness import (
    OTHER_DISTRICT_ROLES,
    SCHOOL_OWNED_SEES,
    Case,
    district_school_ids,
    logged,
    logged_per_school,
    register,
)

EVERY_ROLE_WITH_A_SCHOOL = (
    "gupei_admin", "menzhuang_admin", "bureau_admin", "bureau_inspector", "gupei_township", "gupei_teacher",
    "gupei_clerk",
)
OTHER_NOT_BUREAU_ADMIN = tuple(r for r in OTHER_DISTRICT_ROLES if r != "other_bureau_admin")


def _schools(tree):
    return {"a": tree.gupei, "village": tree.village_a, "b": tree.menzhuang, "far": tree.far_school}


register(Case(
    basename="me",
    make=_schools,
    sees=SCHOOL_OWNED_SEES,
    singleton_ids=lambda body: {s["id"] for s in body["schools"]},
))

register(Case(
    basename="districts",
    make=lambda tree: {"own": tree.district, "far": tree.other_district},
    # The district is shared by school A and school B: both see it, nobody sees another district.
    sees={role: {"own"} for role in EVERY_ROLE_WITH_A_SCHOOL} | {"nobody": set()}
    | {role: {"far"} for role in OTHER_DISTRICT_ROLES},
))

register(Case(
    basename="schools",
    make=_schools,
    sees=SCHOOL_OWNED_SEES,
    write_ok={
        "update": {"bureau_admin": {"a", "village", "b"}, "other_bureau_admin": {"far"}},
        "partial_update": {"bureau_admin": {"a", "village", "b"}, "other_bureau_admin": {"far"}},
    },
    update_payload=lambda school: {"name": f"{school.name}（新）", "code": school.code},
    snapshot=lambda school: (school.name, school.code, school.parent_id),
    create_payloads=lambda tree, objs: {
        "own_district": {"district": tree.district.id, "name": "新学校", "code": "new-school"},
        "other_district": {"district": tree.other_district.id, "name": "新学校", "code": "new-school"},
        "under_village": {"district": tree.district.id, "parent": tree.village_a.id, "name": "村小", "code": "v"},
    },
    create_expect={
        "bureau_admin": {"own_district": 201, "under_village": 201},
        # They see the district (or the village school) but may not create schools: 403.
        "gupei_admin": {"own_district": 403},
        "menzhuang_admin": {"own_district": 403},
        "gupei_teacher": {"own_district": 403},
        "gupei_clerk": {"own_district": 403},
        "gupei_township": {"own_district": 403, "under_village": 403},
        "bureau_inspector": {"own_district": 403, "under_village": 403},
        # The other district: its own bureau admin creates there; this district is unseen (400).
        "other_bureau_admin": {"other_district": 201},
        **{role: {"other_district": 403} for role in OTHER_NOT_BUREAU_ADMIN},
    },
))


def _memberships(tree):
    far_teacher = services.user_create(username="far_teacher", password=None)
    return {
        "a": tree.gupei_teacher.memberships.get(school=tree.gupei),
        "village": tree.village_a_admin.memberships.get(school=tree.village_a),
        "b": tree.menzhuang_teacher.memberships.get(school=tree.menzhuang),
        "far": services.membership_grant(user=far_teacher, role=Role.TEACHER, school=tree.far_school),
    }


def _membership_payloads(tree, objs):
    def staff(label, school):
        return {"role": Role.TEACHER, "school": school.id, "username": f"new_{label}", "display_name": "新老师"}

    return {
        "a": staff("a", tree.gupei),
        "village": staff("village", tree.village_a),
        "b": staff("b", tree.menzhuang),
        "far": staff("far", tree.far_school),
        "district": {"role": Role.BUREAU_INSPECTOR, "district": tree.district.id, "username": "gupei_clerk"},
    }


def _membership_logs(action, membership, user):
    # A bureau role opens every school of its district to the holder: logged on each of them
    # (tenancy.services._log_membership), a school role on its school.
    if membership.district_id:
        return logged_per_school(district_school_ids(membership.district_id), action, user, "tenancy.membership",
                                 membership.pk)
    return logged(membership, action, user)


register(Case(
    basename="memberships",
    logs=_membership_logs,
    make=_memberships,
    sees=SCHOOL_OWNED_SEES,
    write_ok={"destroy": {
        "gupei_admin": {"a"},
        "menzhuang_admin": {"b"},
        "gupei_township": {"a", "village"},
        "bureau_admin": {"a", "village", "b"},
        "other_bureau_admin": {"far"},
    }},
    snapshot=lambda m: (m.user_id, m.role, m.school_id, m.district_id),
    create_payloads=_membership_payloads,
    create_expect={
        "gupei_admin": {"a": 201, "district": 403},
        "menzhuang_admin": {"b": 201, "district": 403},
        "gupei_township": {"a": 201, "village": 201, "district": 403},
        "bureau_admin": {"a": 201, "village": 201, "b": 201, "district": 201},
        "gupei_teacher": {"a": 403, "district": 403},
        "gupei_clerk": {"a": 403, "district": 403},
        # Read-only: the schools it sees (a, village, b) are 403 by default, so is its district.
        "bureau_inspector": {"district": 403},
        "other_bureau_admin": {"far": 201},
    },
))

register(Case(
    basename="today",
    make=_schools,
    sees=SCHOOL_OWNED_SEES,
    # The to-do list names the schools it covers: exactly the user's own.
    singleton_ids=lambda body: set(body["schools"]),
))
