"""The privacy app's navigation link: the school admin's children's-data page."""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from tenancy.navigation import NavItem
from tenancy.selectors import nav_for, permissions_on_school, schools_visible_to


def _school(request):
    match = getattr(request, "resolver_match", None)
    pk = match.kwargs.get("school_pk") if match else None
    if pk is not None:
        school = schools_visible_to(request.user).filter(pk=pk).first()
        if school is not None:
            return school
    return nav_for(request.user).get("nav_school")


def items(request) -> list[NavItem]:
    school = _school(request)
    if school is None or "manage_children" not in permissions_on_school(request.user, school):
        return []
    return [NavItem("privacy", _("Children's data"), reverse("privacy_overview", kwargs={"school_pk": school.pk}))]
