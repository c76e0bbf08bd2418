"""Header links of a school's home (tenancy.views.nav_context collects `items`).

The school is the one in the URL (a bureau user browsing a school), else the user's own school.
Links to pages another change may not have merged yet are skipped (NoReverseMatch)."""
from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from tenancy.roles import DISTRICT_ROLES
from tenancy.selectors import memberships_of, nav_for, permissions_on_school, schools_visible_to

LINKS = (
    ("school_dashboard", "Dashboard", "view_home"),
    ("contact_tracker", "Four contacts", "view_home"),
    ("contacts_list", "Contact records", "view_home"),
    ("children_list", "Children", "view_home"),
    ("activities_week", "Activities", "view_home"),
    ("home_setup", "Home setup", "view_home"),
)
LABELS = {  # gettext needs literal msgids for makemessages
    "Dashboard": lambda: _("Dashboard"),
    "Four contacts": lambda: _("Four contacts"),
    "Contact records": lambda: _("Contact records"),
    "Children": lambda: _("Children"),
    "Activities": lambda: _("Activities"),
    "Home setup": lambda: _("Home setup"),
}


def _school(request):
    match = getattr(request, "resolver_match", None)
    pk = match.kwargs.get("school_pk") if match else None
    if pk is not None:
        school = schools_visible_to(request.user).filter(pk=pk).first()
        if school is not None:
            return school
    return nav_for(request.user).get("nav_school")


def calendar_items(request) -> list[tuple[str, str]]:
    """The bureau's link to its district's academic calendar (one per district it belongs to)."""
    ids = dict.fromkeys(m.district_id for m in memberships_of(request.user) if m.role in DISTRICT_ROLES)
    return [(_("Academic calendar"), reverse("district_semesters", kwargs={"pk": pk})) for pk in ids]


def items(request) -> list[tuple[str, str]]:
    calendar = calendar_items(request)
    school = _school(request)
    if school is None:
        return calendar
    perms = permissions_on_school(request.user, school)
    out = []
    for url_name, label, perm in LINKS:
        if perm not in perms:
            continue
        url = None
        for kwarg in ("school_pk", "pk"):
            try:
                url = reverse(url_name, kwargs={kwarg: school.pk})
                break
            except NoReverseMatch:
                continue
        if url is None:
            continue
        out.append((LABELS[label](), url))
    return calendar + out
