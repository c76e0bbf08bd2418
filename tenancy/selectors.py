"""Reads about who sees what. The scope of a user is computed here, once per request/task."""
from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import District, Membership, School
from .roles import DISTRICT_ROLES, ROLE_PERMISSIONS, Role


def memberships_of(user) -> list[Membership]:
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_memberships_cache", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user).select_related("district", "school"))
        user._memberships_cache = cached
    return cached


def _visibility_q(memberships) -> Q | None:
    """A Q over School matching every school any membership reaches (subtrees included)."""
    q = None
    for m in memberships:
        if m.role in DISTRICT_ROLES:
            part = Q(district_id=m.district_id)
        elif m.role == Role.TOWNSHIP_ADMIN:
            part = Q(path__startswith=m.school.path)
        else:
            part = Q(id=m.school_id)
        q = part if q is None else q | part
    return q


def schools_visible_to(user) -> QuerySet[School]:
    """Every school the user may see. Empty for anonymous users and users with no role."""
    q = _visibility_q(memberships_of(user))
    if q is None:
        return School.objects.none()
    return School.objects.filter(q)


def school_ids_for_user(user) -> list[int]:
    cached = getattr(user, "_school_ids_cache", None)
    if cached is None:
        cached = list(schools_visible_to(user).values_list("id", flat=True))
        if getattr(user, "is_authenticated", False):
            user._school_ids_cache = cached
    return cached


def districts_visible_to(user) -> QuerySet[District]:
    ids = set()
    for m in memberships_of(user):
        ids.add(m.district_id if m.district_id else m.school.district_id)
    return District.objects.filter(id__in=ids)


def roles_of(user) -> set[str]:
    return {m.role for m in memberships_of(user)}


def is_bureau_user(user) -> bool:
    return bool(roles_of(user) & {r.value for r in DISTRICT_ROLES})


def _guardian_perms(model, user, object_ids) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    rows = model.objects.filter(user=user, content_object_id__in=object_ids).values_list(
        "content_object_id", "permission__codename"
    )
    for obj_id, codename in rows:
        out.setdefault(obj_id, set()).add(codename)
    return out


def permissions_on_school(user, school: School) -> set[str]:
    """Effective permission codenames of the user on a school, read from django-guardian's
    direct-FK tables: grants on the school itself, on its district, and, for a township admin,
    the township permissions granted on an ancestor (other roles stop at their own school).
    """
    if not getattr(user, "is_authenticated", False):
        return set()
    cache = user.__dict__.setdefault("_school_perm_cache", {})
    if school.id in cache:
        return cache[school.id]
    from .models import DistrictUserObjectPermission, SchoolUserObjectPermission

    ancestors = {int(p) for p in school.path.strip("/").split("/") if p} - {school.id}
    township_at = {m.school_id for m in memberships_of(user) if m.role == Role.TOWNSHIP_ADMIN}
    by_school = _guardian_perms(SchoolUserObjectPermission, user, {school.id} | (ancestors & township_at))
    perms = set(by_school.pop(school.id, set()))
    for inherited in by_school.values():
        perms |= inherited & ROLE_PERMISSIONS[Role.TOWNSHIP_ADMIN]
    perms |= _guardian_perms(DistrictUserObjectPermission, user, [school.district_id]).get(school.district_id, set())
    cache[school.id] = perms
    return perms


def has_school_perm(user, codename: str, school: School) -> bool:
    return codename in permissions_on_school(user, school)


def memberships_visible_to(user) -> QuerySet[Membership]:
    """Memberships on schools (and districts) the user can see and manage or view."""
    school_ids = school_ids_for_user(user)
    district_ids = [m.district_id for m in memberships_of(user) if m.role in DISTRICT_ROLES]
    return Membership.objects.filter(
        Q(school_id__in=school_ids) | Q(district_id__in=district_ids)
    ).select_related("user", "school", "district")


def permissions_on_district(user, district: District) -> set[str]:
    """Permission codenames the user holds on the district object itself (bureau roles).

    Added for submissions (issue #5): the reporting calendar and the completeness matrix are
    district-level, so they ask the district grant directly (one query; not cached, because
    membership_grant only clears the caches it knows about).
    """
    if not getattr(user, "is_authenticated", False):
        return set()
    from .models import DistrictUserObjectPermission

    return _guardian_perms(DistrictUserObjectPermission, user, [district.id]).get(district.id, set())
