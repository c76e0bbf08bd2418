"""The compliance app's navigation links (registered with tenancy.navigation in apps.py)."""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from tenancy import selectors as tenancy_selectors
from tenancy.navigation import NavItem
from tenancy.roles import Role


def items(request) -> list[NavItem]:
    roles = tenancy_selectors.roles_of(request.user)
    links = []
    if roles & {Role.BUREAU_ADMIN, Role.BUREAU_INSPECTOR, Role.TOWNSHIP_ADMIN}:
        links.append(NavItem("compliance", _("District dashboard"), reverse("compliance_index")))
    if roles & {Role.SCHOOL_ADMIN, Role.TEACHER, Role.CLERK}:
        links.append(NavItem("my_score", _("My score"), reverse("compliance_my_score")))
    if Role.BUREAU_ADMIN in roles:
        links.append(NavItem("compliance_exports", _("Exports"), reverse("compliance_exports_latest")))
        links.append(NavItem("checklists", _("Checklists"), reverse("compliance_checklists")))
    return links
