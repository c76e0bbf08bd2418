"""The submissions app's navigation links (registered with tenancy.navigation in apps.py).

Runs on every page, so it reads only the user's memberships (cached on the user for the
request).
"""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from tenancy.navigation import NavItem
from tenancy.roles import SUBTREE_ROLES, Role
from tenancy.selectors import memberships_of

_OVERSEER_ROLES = {r.value for r in SUBTREE_ROLES}


def items(request) -> list[NavItem]:
    user = request.user
    memberships = memberships_of(user)
    out: list[NavItem] = []
    # Every school role can see its school's calendar (view_home); the pages check again.
    school = next((m.school for m in memberships if m.school_id), None)
    if school is not None:
        out.append(NavItem("submissions", _("Reports"), reverse("school_submissions", kwargs={"pk": school.pk})))
    # A township admin reviews the village schools' reports before the bureau (VIA_CENTRE route).
    if any(m.role == Role.TOWNSHIP_ADMIN for m in memberships):
        out.append(NavItem("centre_reviews", _("Village reports to review"), reverse("centre_queue")))
    # Bureau and township users oversee reporting; the pages decide exactly what (else 404).
    if any(m.role in _OVERSEER_ROLES for m in memberships):
        out.append(NavItem("reporting", _("Reporting"), reverse("reporting_matrix")))
        out.append(NavItem("similarity", _("Copied narratives"), reverse("similarity_list")))
        out.append(NavItem("unlock_requests", _("Unlock requests"), reverse("unlock_requests")))
        out.append(NavItem("district_exports", _("District exports"), reverse("district_exports")))
        # The approval routes are the bureau's to set; the inspector reads them (not the township).
        if any(m.role in (Role.BUREAU_ADMIN, Role.BUREAU_INSPECTOR) for m in memberships):
            out.append(NavItem("report_type_routes", _("Approval routes"), reverse("report_type_routes")))
        # The township package: a township admin compiles their centre's; the bureau reads them all.
        centre = next((m.school for m in memberships if m.role == Role.TOWNSHIP_ADMIN and m.school_id), None)
        if centre is not None:
            out.append(NavItem("township_packages", _("Township package"),
                               reverse("township_packages", kwargs={"pk": centre.pk})))
        else:
            out.append(NavItem("township_packages", _("Township packages"), reverse("township_overview")))
    return out
