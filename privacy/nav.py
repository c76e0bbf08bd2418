"""The privacy app's navigation link: the children's-data page of the user's own school, for whoever
keeps its archive (the school admin). Only the user's own school: the overseers, who browse other
schools, never manage their children, and so the link costs no query of its own."""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from tenancy.navigation import NavItem
from tenancy.selectors import nav_for, permissions_on_school


def items(request) -> list[NavItem]:
    school = nav_for(request.user).get("nav_school")
    if school is None or "manage_children" not in permissions_on_school(request.user, school):
        return []
    return [NavItem("privacy", _("Children's data"), reverse("privacy_overview", kwargs={"school_pk": school.pk}))]
