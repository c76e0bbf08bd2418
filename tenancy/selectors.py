"""Reads about who sees what. The scope of a user is computed here, once per request/task."""
from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from .models import (
    AccessLog,
    District,
    DistrictUserObjectPermission,
    Membership,
    School,
    SchoolUserObjectPermission,
    User,
)
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


def district_ids_for_user(user) -> list[int]:
    """The districts whose district-owned rows (calendar, report types, checklists, assessments…)
    the user's scope holds: those of its district roles and the districts of its schools (a
    school's staff read their district's calendar and checklists). What each may do with them is
    decided by the permissions, as for schools."""
    ids = set()
    for m in memberships_of(user):
        if m.district_id:
            ids.add(m.district_id)
        else:
            # membership_target_matches_role: a membership without a district is on a school.
            assert m.school is not None
            ids.add(m.school.district_id)
    return sorted(ids)


def districts_visible_to(user) -> QuerySet[District]:
    ids = district_ids_for_user(user)
    if not ids:
        return District.objects.none()
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


# ---------------------------------------------------------------- permissions per district and school
def permissions_on_district(user, district: District | int) -> set[str]:
    """Permission codenames the user holds on a district object itself (bureau roles)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    district_id = district.id if isinstance(district, District) else district
    cache = user.__dict__.setdefault("_district_perm_cache", {})
    if district_id not in cache:
        cache[district_id] = _guardian_perms(DistrictUserObjectPermission, user, [district_id]).get(district_id, set())
    return cache[district_id]


def has_district_perm(user, codename: str, district: District | int) -> bool:
    return codename in permissions_on_district(user, district)


def permissions_by_school(user) -> dict[int, set[str]]:
    """Effective permissions on every school the user can see, in a fixed number of queries.

    Same rules as permissions_on_school (which costs two queries per school); the result also
    fills its cache, so later has_school_perm calls in the request are free.
    """
    if not getattr(user, "is_authenticated", False):
        return {}
    schools = list(schools_visible_to(user).only("id", "path", "district_id"))
    township_at = {m.school_id for m in memberships_of(user) if m.role == Role.TOWNSHIP_ADMIN}
    own = _guardian_perms(SchoolUserObjectPermission, user, {s.id for s in schools} | township_at)
    by_district = _guardian_perms(DistrictUserObjectPermission, user, {s.district_id for s in schools})
    district_cache = user.__dict__.setdefault("_district_perm_cache", {})
    for district_id in {s.district_id for s in schools}:
        district_cache.setdefault(district_id, by_district.get(district_id, set()))
    cache = user.__dict__.setdefault("_school_perm_cache", {})
    out: dict[int, set[str]] = {}
    for s in schools:
        ancestors = {int(p) for p in s.path.strip("/").split("/") if p} - {s.id}
        perms = set(own.get(s.id, set()))
        for ancestor in ancestors & township_at:
            perms |= own.get(ancestor, set()) & ROLE_PERMISSIONS[Role.TOWNSHIP_ADMIN]
        perms |= by_district.get(s.district_id, set())
        out[s.id] = perms
        cache.setdefault(s.id, perms)
    return out


# ---------------------------------------------------------------- web UI reads
def _count_subquery(queryset, field: str):
    """A correlated COUNT(DISTINCT field) sub-select, 0 when nothing matches.

    Sub-selects instead of JOIN + Count: several counts on one row never multiply each other,
    and more counts can be added without changing the number of queries.
    """
    counted = (
        queryset.filter(school_id=OuterRef("pk")).order_by().values("school_id")
        .annotate(n=Count(field, distinct=True)).values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def school_summaries(user) -> QuerySet[School]:
    """The schools the user sees, each annotated with its figures, in ONE query.

    `village_count`: schools directly overseen by it; `staff_count`: distinct users holding a
    role there. Further counts go here as further annotations.
    """
    villages = (
        School.objects.filter(parent_id=OuterRef("pk")).order_by().values("parent_id")
        .annotate(n=Count("id")).values("n")
    )
    return (
        schools_visible_to(user)
        .select_related("parent")
        .annotate(
            village_count=Coalesce(Subquery(villages, output_field=IntegerField()), 0),
            staff_count=_count_subquery(Membership.objects.all(), "user_id"),
        )
        .order_by("path")
    )


def school_summary(user, pk: int) -> School | None:
    """One visible school with the same figures as `school_summaries`; None when not visible."""
    return school_summaries(user).filter(pk=pk).first()


def school_staff(school: School) -> list[dict]:
    """The school's staff, one entry per user with the memberships they hold there."""
    rows: dict[int, dict] = {}
    for m in Membership.objects.filter(school=school).select_related("user").order_by("user__username", "role"):
        entry = rows.setdefault(m.user_id, {"user": m.user, "memberships": []})
        entry["memberships"].append(m)
    return list(rows.values())


def access_log_for_school(school: School, *, action: str = "", user_id: int | None = None,
                          date_from=None, date_to=None):
    """The school's access log, newest first, optionally filtered. Runs inside the request scope."""
    qs = AccessLog.objects.filter(school=school).select_related("user").order_by("-at", "-id")
    if action:
        qs = qs.filter(action=action)
    if user_id:
        qs = qs.filter(user_id=user_id)
    if date_from:
        qs = qs.filter(at__date__gte=date_from)
    if date_to:
        qs = qs.filter(at__date__lte=date_to)
    return qs


def access_log_users(school: School):
    """Users who appear in the school's access log (for the filter), including former staff."""
    ids = AccessLog.objects.filter(school=school).exclude(user=None).values("user_id")
    return User.objects.filter(id__in=ids).order_by("username")


def nav_for(user) -> dict:
    """What the page header links to: the user's own school (their first school role) and the
    school pages they may open there. Bureau users reach schools through the home page.
    """
    school = next((m.school for m in memberships_of(user) if m.school_id), None)
    if school is None:
        return {"nav_school": None}
    perms = permissions_on_school(user, school)
    return {
        "nav_school": school,
        "nav_can_manage_staff": "manage_staff" in perms,
        "nav_can_view_access_log": "view_access_log" in perms,
    }
