"""Who may see and do what in the audit app, once, for pages and API alike.

- Audit packs hold the whole district's figures: the bureau admin builds and reads them, the
  bureau inspector reads them; no school role sees them (404).
- A district breach is recorded by the bureau admin; a school's own breach by its admin. The
  bureau's readers read every breach of their district, a school admin its school's only.
"""
from __future__ import annotations

from django.db.models import Q, QuerySet

from tenancy.models import District, School
from tenancy.selectors import (
    district_ids_for_user,
    has_district_perm,
    has_school_perm,
    permissions_by_school,
    permissions_on_district,
)

from ..models import AuditPack, Breach

READ_PERM = "view_aggregates"  # the bureau's readers: admin and inspector
BUILD_PERM = "view_access_log"  # on a district: the bureau admin, who also reads its access log
DISTRICT_BREACH_PERM = "manage_schools"  # on a district: the bureau admin
SCHOOL_BREACH_PERM = "manage_children"  # on a school: its admin, who keeps the children's archive


def reader_districts(user) -> list[int]:
    """The districts whose packs (and every breach) the user reads."""
    return [d for d in district_ids_for_user(user) if READ_PERM in permissions_on_district(user, d)]


def can_read_packs(user, district: District | int) -> bool:
    return has_district_perm(user, READ_PERM, district)


def can_build_packs(user, district: District | int) -> bool:
    return has_district_perm(user, BUILD_PERM, district)


def packs_visible_to(user) -> QuerySet[AuditPack]:
    return AuditPack.objects.filter(district_id__in=reader_districts(user)).select_related("district", "requested_by")


def can_record_district_breach(user, district: District | int) -> bool:
    return has_district_perm(user, DISTRICT_BREACH_PERM, district)


def can_record_school_breach(user, school: School) -> bool:
    return has_school_perm(user, SCHOOL_BREACH_PERM, school)


def breach_school_ids(user) -> list[int]:
    """Schools whose own breaches the user records and reads (as their admin)."""
    return [sid for sid, perms in permissions_by_school(user).items() if SCHOOL_BREACH_PERM in perms]


def breaches_visible_to(user) -> QuerySet[Breach]:
    q = Q(district_id__in=reader_districts(user)) | Q(school_id__in=breach_school_ids(user))
    return Breach.objects.filter(q).select_related("district", "school").prefetch_related("notices")
