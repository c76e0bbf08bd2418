"""Who sees which child, at which level, and the child's fields masked for that level."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _

from tenancy.models import School
from tenancy.selectors import permissions_by_school, permissions_on_school, schools_visible_to

from .. import crypto
from ..models import Child, ChildUserObjectPermission, ProxyAssignment
from ..register import REGISTER_FIELDS, register_warnings
from ._common import _today

ADMIN, IDENTITY, PROXY, BASIC = "admin", "identity", "proxy", "basic"
_RANK = {None: 0, BASIC: 1, PROXY: 2, IDENTITY: 3, ADMIN: 4}

BASIC_FIELDS = ("id", "name", "grade", "class_name", "status")
PROXY_FIELDS = BASIC_FIELDS + (
    "gender", "birth_date", "left_behind_kind", "parents_work_place", "guardian_name", "guardian_relation",
    "guardian_phone", "second_contact_name", "second_contact_phone", "home_village", "health_notes",
    "consent", "consent_date", "consent_method", "status_since", "purged_at", *REGISTER_FIELDS,
)
WELLBEING_LEVELS = {ADMIN, PROXY}
# The national ID number is "shown masked except to the school admin", whoever else reads.
FULL_ID_LEVELS = {ADMIN}

# ---------------------------------------------------------------- who sees which child
def level_from_perms(perms: set[str]) -> str | None:
    """The access level on every child of a school, from the user's permissions on it (before
    guardian exceptions). The one rule: school_child_level and child_levels both use it."""
    if "manage_children" in perms:
        return ADMIN
    if "view_child_identity" in perms:
        return IDENTITY
    if "manage_materials" in perms:
        return BASIC
    return None


def school_child_level(user, school: School) -> str | None:
    """The access level a user has on every child of the school (before guardian exceptions)."""
    return level_from_perms(permissions_on_school(user, school))


def _assigned_ids_subquery(user):
    return ChildUserObjectPermission.objects.filter(
        user=user, permission__codename="care_for_child", permission__content_type__app_label="schools",
    ).values("content_object_id")


def _levels_by_school(user, school: School | None = None) -> tuple[dict[int, str | None], set[int]]:
    """({school_id: level}, {school ids where the user may have assigned children})."""
    schools = [school] if school is not None else list(schools_visible_to(user))
    if school is not None and school.id not in {s.id for s in schools_visible_to(user)}:
        return {}, set()
    levels, assigned = {}, set()
    for s in schools:
        levels[s.id] = school_child_level(user, s)
        if "record_contacts" in permissions_on_school(user, s):
            assigned.add(s.id)
    return levels, assigned


def children_visible_to(user, school: School | None = None):
    """Children the user may see at all (any level). Must run inside a tenant scope."""
    if not getattr(user, "is_authenticated", False):
        return Child.objects.none()
    levels, assigned = _levels_by_school(user, school)
    whole = [sid for sid, lvl in levels.items() if lvl]
    q = Q(school_id__in=whole)
    if assigned:
        q |= Q(school_id__in=assigned, id__in=_assigned_ids_subquery(user))
    if not whole and not assigned:
        return Child.objects.none()
    return Child.objects.filter(q)


def assigned_child_ids(user) -> set[int]:
    return set(ChildUserObjectPermission.objects.filter(
        user=user, permission__codename="care_for_child").values_list("content_object_id", flat=True))


def child_access_level(user, child: Child, *, assigned: set[int] | None = None) -> str | None:
    level = school_child_level(user, child.school)
    if _RANK[level] < _RANK[PROXY]:
        if assigned is None:
            is_assigned = ChildUserObjectPermission.objects.filter(
                user=user, content_object=child, permission__codename="care_for_child").exists()
        else:
            is_assigned = child.id in assigned
        if is_assigned and "record_contacts" in permissions_on_school(user, child.school):
            level = PROXY
    return level


def child_fields(child: Child, level: str | None) -> dict:
    """The child's fields masked for an access level (what a page or serializer may show)."""
    if level is None:
        return {}
    names = BASIC_FIELDS if level == BASIC else PROXY_FIELDS
    data = {name: getattr(child, name) for name in names}
    if child.is_purged:
        data["name"] = _("(record purged)")
    if level != BASIC:
        data["id_number"] = (crypto.decrypt(child.id_number_ciphertext) if level in FULL_ID_LEVELS
                             else child.id_number_masked)
        if level in WELLBEING_LEVELS:
            data["wellbeing_notes"] = child.wellbeing_notes
        data["register_warnings"] = register_warnings(child)
    return data


@dataclass
class ChildView:
    child: Child
    level: str
    data: dict
    proxy_parent: object | None
    can_edit: bool
    can_record_contacts: bool
    status_history: list = field(default_factory=list)


def child_get_for_view(user, pk) -> ChildView:
    """One child's record, masked for the user. Child.DoesNotExist if the user may not see it (the
    caller answers 404, never 403). Showing it is logged by services.child_read_log."""
    child = children_visible_to(user).select_related("school").get(pk=pk)
    level = child_access_level(user, child)
    if level is None:  # defensive: visible implies a level
        raise Child.DoesNotExist
    perms = permissions_on_school(user, child.school)
    today = _today()
    current = (ProxyAssignment.objects.filter(ProxyAssignment.active_q(today), child=child)
               .select_related("proxy_parent").first())
    history = list(child.status_history.all()) if level != BASIC else []
    return ChildView(
        child=child, level=level, data=child_fields(child, level),
        proxy_parent=current.proxy_parent if current and level != BASIC else None,
        can_edit=level == ADMIN and not child.is_purged,
        can_record_contacts="record_contacts" in perms and level in (ADMIN, PROXY),
        status_history=history,
    )


def child_for_contact(user, pk) -> Child:
    """A child the user may record contacts (and work records) for: with `record_contacts` on
    the school, either managing the archive or being the child's current proxy parent.
    Child.DoesNotExist otherwise."""
    levels, assigned = _levels_by_school(user)
    whole = [sid for sid in assigned if levels.get(sid) == ADMIN]
    q = Q(school_id__in=whole)
    if assigned:
        q |= Q(school_id__in=assigned, id__in=_assigned_ids_subquery(user))
    return Child.objects.filter(q).select_related("school").get(pk=pk)


def children_list(user, school: School | None = None, *, status: str | None = Child.Status.ACTIVE,
                  class_name: str | None = None) -> list[dict]:
    """Rows for a list page or API list, each masked for the user's level on that child.
    A constant number of queries; lists are not logged per child (details and exports are)."""
    levels, _assigned = _levels_by_school(user, school)
    assigned = assigned_child_ids(user)
    qs = children_visible_to(user, school)
    if status:
        qs = qs.filter(status=status)
    if class_name:
        qs = qs.filter(class_name=class_name)
    rows = []
    for child in qs.order_by("grade", "class_name", "name", "id"):
        level = levels.get(child.school_id)
        if child.id in assigned and _RANK[level] < _RANK[PROXY]:
            level = PROXY
        row = {k: v for k, v in child_fields(child, level).items()
               if k in ("id", "name", "grade", "class_name", "status", "gender", "left_behind_kind", "id_number")}
        if "id_number" in row:
            # Lists never show a full ID number, whoever reads them (no bulk copy of identities).
            row["id_number"] = child.id_number_masked
        row["level"] = level
        rows.append(row)
    return rows


# ---------------------------------------------------------------- batched levels (lists of any school)
def child_levels(user) -> tuple[dict[int, str | None], set[int]]:
    """({school id: level on every child of that school}, {ids of the children the user cares for
    as proxy parent, in schools where they may record contacts}) in a fixed number of queries,
    whatever the number of schools or children (for API lists)."""
    if not getattr(user, "is_authenticated", False):
        return {}, set()
    perms = permissions_by_school(user)
    levels = {sid: level_from_perms(p) for sid, p in perms.items()}
    contact_schools = [sid for sid, p in perms.items() if "record_contacts" in p]
    assigned: set[int] = set()
    if contact_schools:
        assigned = set(Child.objects.filter(school_id__in=contact_schools, id__in=_assigned_ids_subquery(user))
                       .values_list("id", flat=True))
    return levels, assigned


def child_level_in(levels: dict, assigned: set[int], child) -> str | None:
    """The level on one child from child_levels() (same answer as child_access_level)."""
    level = levels.get(child.school_id)
    if child.id in assigned and _RANK[level] < _RANK[PROXY]:
        level = PROXY
    return level


def children_with_identity_visible_to(user):
    """Children whose personal records the user may read (level PROXY or above): the filter for
    records about a child (contacts, status history, assignments, refusals). A materials clerk
    (BASIC) and the bureau without an explicit identity grant get none."""
    if not getattr(user, "is_authenticated", False):
        return Child.objects.none()
    perms = permissions_by_school(user)
    whole = [sid for sid, p in perms.items() if _RANK[level_from_perms(p)] >= _RANK[PROXY]]
    contact_schools = [sid for sid, p in perms.items() if "record_contacts" in p]
    q = Q(school_id__in=whole)
    if contact_schools:
        q |= Q(school_id__in=contact_schools, id__in=_assigned_ids_subquery(user))
    return Child.objects.filter(q)
