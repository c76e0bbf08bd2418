"""Which schools of a district a user oversees: the one rule behind the bureau's and the township
admin's reporting pages (the matrix, report types, similarity flags)."""
from __future__ import annotations

from django.db.models import Q

from tenancy.models import District
from tenancy.roles import Role
from tenancy.selectors import memberships_of, permissions_on_district

OVERSIGHT_PERMS = {"view_aggregates", "review_submissions"}


def oversight_school_q(user, district: District) -> Q | None:
    """Which of the district's schools the user oversees: all of them for the bureau, the
    subtree for a township centre school's admin, none otherwise."""
    if permissions_on_district(user, district) & OVERSIGHT_PERMS:
        return Q(district_id=district.id)
    q = None
    for m in memberships_of(user):
        if m.role == Role.TOWNSHIP_ADMIN and m.school.district_id == district.id:
            part = Q(path__startswith=m.school.path)
            q = part if q is None else q | part
    return q
