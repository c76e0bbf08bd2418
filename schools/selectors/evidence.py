"""Reused-evidence flags, each visible only inside one reach of the user's roles."""
from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from tenancy.roles import DISTRICT_ROLES, Role
from tenancy.selectors import memberships_of, permissions_on_school, schools_visible_to

from ..models import ReusedEvidenceFlag


def reuse_match_q(user) -> Q:
    """Flags whose two sides (the new use and the earlier one) lie inside ONE reach of the user's
    roles: the district for a bureau role, the subtree for a township admin, the school itself for
    any school role. A match with a school outside that reach says something about the other
    school (that it holds this photo, which record it is on), so it is the overseer's alone.
    Each role is its own reach: two school roles never join into a cross-school view."""
    q = Q(pk__in=[])
    for m in memberships_of(user):
        if m.role in DISTRICT_ROLES:
            q |= Q(school__district_id=m.district_id, matched_school__district_id=m.district_id)
        elif m.role == Role.TOWNSHIP_ADMIN:
            q |= Q(school__path__startswith=m.school.path, matched_school__path__startswith=m.school.path)
        else:
            q |= Q(school_id=m.school_id, matched_school_id=m.school_id)
    return q


def reused_annotation(user) -> Exists:
    """`reused` for an evidence queryset: flagged by a match the user may see (reuse_match_q)."""
    return Exists(ReusedEvidenceFlag.objects.filter(reuse_match_q(user), evidence=OuterRef("pk")))


def reuse_flags_visible_to(user):
    """Reused-evidence flags of the schools where the user sees aggregates or manages materials,
    each only when its match lies inside the same reach of the user (reuse_match_q)."""
    ids = [s.id for s in schools_visible_to(user)
           if permissions_on_school(user, s) & {"view_aggregates", "manage_materials"}]
    return (ReusedEvidenceFlag.objects.filter(reuse_match_q(user), school_id__in=ids)
            .select_related("evidence", "matched_school"))
