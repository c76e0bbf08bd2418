"""The audit app's navigation links (registered with tenancy.navigation in apps.py): the bureau's
readers get the audit packs, a school admin the school's breach register."""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from tenancy.navigation import NavItem
from tenancy.roles import Role
from tenancy.selectors import memberships_of


def items(request) -> list[NavItem]:
    memberships = memberships_of(request.user)
    out: list[NavItem] = []
    if any(m.role in (Role.BUREAU_ADMIN, Role.BUREAU_INSPECTOR) for m in memberships):
        out.append(NavItem("privacy_audit", _("Minors' data audit"), reverse("audit_home")))
    school = next((m.school for m in memberships if m.role == Role.SCHOOL_ADMIN), None)
    if school is not None:
        out.append(NavItem("breaches", _("Data breaches"), reverse("school_breaches", kwargs={"school_pk": school.pk})))
    return out
