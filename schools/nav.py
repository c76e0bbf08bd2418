"""The schools app's navigation links (registered with tenancy.navigation in apps.py).

The school is the one in the URL (a bureau user browsing a school), else the user's own school."""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from tenancy.navigation import NavItem
from tenancy.roles import DISTRICT_ROLES
from tenancy.selectors import memberships_of, nav_for, permissions_on_school, schools_visible_to


def _links() -> tuple[tuple[str, str, str], ...]:
    """(url name, label, permission) of the school's pages; the url name is the item's key."""
    return (
        ("school_dashboard", _("Dashboard"), "view_home"),
        ("contact_tracker", _("Four contacts"), "view_home"),
        ("contacts_list", _("Contact records"), "view_home"),
        ("children_list", _("Children"), "view_home"),
        ("activities_week", _("Activities"), "view_home"),
        ("home_setup", _("Home setup"), "view_home"),
    )


# Keys other than the url name, where TABS names the task rather than the page.
KEYS = {"activities_week": "activities"}


def _school(request):
    match = getattr(request, "resolver_match", None)
    pk = match.kwargs.get("school_pk") if match else None
    if pk is not None:
        school = schools_visible_to(request.user).filter(pk=pk).first()
        if school is not None:
            return school
    return nav_for(request.user).get("nav_school")


def calendar_items(request) -> list[NavItem]:
    """The bureau's link to its district's academic calendar (one per district it belongs to)."""
    ids = dict.fromkeys(m.district_id for m in memberships_of(request.user) if m.role in DISTRICT_ROLES)
    return [NavItem("calendar", _("Academic calendar"), reverse("district_semesters", kwargs={"pk": pk}))
            for pk in ids]


def items(request) -> list[NavItem]:
    calendar = calendar_items(request)
    school = _school(request)
    if school is None:
        return calendar
    perms = permissions_on_school(request.user, school)
    out = [NavItem(KEYS.get(name, name), label, reverse(name, kwargs={"school_pk": school.pk}))
           for name, label, perm in _links() if perm in perms]
    return calendar + out
