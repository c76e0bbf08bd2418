"""The care app's navigation links (registered with tenancy.navigation in apps.py)."""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from tenancy.navigation import NavItem
from tenancy.roles import DISTRICT_ROLES, Role
from tenancy.selectors import memberships_of, nav_for, schools_visible_to

from .selectors import ADMIN, PROXY, care_level, may_see_aggregates


def _school(request):
    match = getattr(request, "resolver_match", None)
    pk = match.kwargs.get("school_pk") if match else None
    if pk is not None:
        school = schools_visible_to(request.user).filter(pk=pk).first()
        if school is not None:
            return school
    return nav_for(request.user).get("nav_school")


def items(request) -> list[NavItem]:
    out: list[NavItem] = []
    memberships = memberships_of(request.user)
    for district_id in dict.fromkeys(m.district_id for m in memberships if m.role in DISTRICT_ROLES):
        out.append(NavItem("care_overview", _("Follow-up figures"),
                           reverse("care_district", kwargs={"pk": district_id})))
    school = _school(request)
    if school is None:
        return out
    level = care_level(request.user, school)
    if level == PROXY:
        out.append(NavItem("care_cases", _("My follow-up cases"), reverse("care_cases", kwargs={"school_pk": school.pk})))
        out.append(NavItem("care_risk", _("Risk list"), reverse("care_risk", kwargs={"school_pk": school.pk})))
    elif level == ADMIN:
        out.append(NavItem("care_cases", _("Follow-up cases"), reverse("care_cases", kwargs={"school_pk": school.pk})))
        out.append(NavItem("care_risk", _("Risk list"), reverse("care_risk", kwargs={"school_pk": school.pk})))
        out.append(NavItem("care_referrals", _("Referrals"),
                           reverse("care_referrals", kwargs={"school_pk": school.pk})))
    elif not out and may_see_aggregates(request.user, school) and any(
            m.role == Role.TOWNSHIP_ADMIN for m in memberships):
        out.append(NavItem("care_overview", _("Follow-up figures"),
                           reverse("care_school_counts", kwargs={"school_pk": school.pk})))
    return out
