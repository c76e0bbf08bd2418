"""Header links of the compliance app (tenancy.views.nav_context collects them)."""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from tenancy import selectors as tenancy_selectors
from tenancy.roles import Role


def items(request) -> list[tuple[str, str]]:
    user = request.user
    roles = tenancy_selectors.roles_of(user)
    links = []
    if roles & {Role.BUREAU_ADMIN, Role.BUREAU_INSPECTOR, Role.TOWNSHIP_ADMIN}:
        links.append((_("District dashboard"), reverse("compliance_index")))
    if roles & {Role.SCHOOL_ADMIN, Role.TEACHER, Role.CLERK}:
        links.append((_("My score"), reverse("compliance_my_score")))
    if Role.BUREAU_ADMIN in roles:
        links.append((_("Exports"), reverse("compliance_exports_latest")))
        links.append((_("Checklists"), reverse("compliance_checklists")))
    return links
