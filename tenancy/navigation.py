"""The site's navigation: a thin header, a bottom tab bar of at most five items, and the 更多 page.

Apps above tenancy contribute their links by registering a provider from their AppConfig.ready
(`navigation.register(nav.items)`); a provider returns the NavItems the request's user may open.
Which of them become tabs is decided here, once, per role (TABS): the other items and the account
links are listed on the 更多 page.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _

from . import selectors
from .roles import Role


@dataclass(frozen=True)
class NavItem:
    key: str  # stable name TABS refers to
    label: str
    url: str
    badge: int = 0  # unread count shown on the tab (0: none)
    current: bool = False


Provider = Callable[..., Iterable[NavItem]]
_PROVIDERS: list[Provider] = []

MORE = "more"
# Daily tasks of each role, in tab order; 更多 is always the last tab (at most five in all).
TABS: dict[str, tuple[str, ...]] = {
    Role.TEACHER: ("home", "contact_tracker", "activities", "notifications"),
    Role.CLERK: ("home", "activities", "submissions", "notifications"),
    Role.SCHOOL_ADMIN: ("home", "contact_tracker", "submissions", "notifications"),
    Role.TOWNSHIP_ADMIN: ("home", "reporting", "compliance", "notifications"),
    Role.BUREAU_INSPECTOR: ("home", "reporting", "compliance", "notifications"),
    Role.BUREAU_ADMIN: ("home", "reporting", "compliance", "notifications"),
}
# A user with several roles gets the tabs of the widest one.
ROLE_ORDER = (Role.BUREAU_ADMIN, Role.BUREAU_INSPECTOR, Role.TOWNSHIP_ADMIN, Role.SCHOOL_ADMIN, Role.CLERK,
              Role.TEACHER)


def register(provider: Provider) -> None:
    """Add an app's provider: `provider(request) -> iterable of NavItem`."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def _own_items(request) -> list[NavItem]:
    """Tenancy's own links: home, and the staff and access-log pages of the user's school."""
    out = [NavItem("home", _("Home"), reverse("home"))]
    nav = selectors.nav_for(request.user)
    school = nav["nav_school"]
    if school is not None:
        if nav["nav_can_manage_staff"]:
            out.append(NavItem("staff", _("Staff"), reverse("school_staff", kwargs={"pk": school.pk})))
        if nav["nav_can_view_access_log"]:
            out.append(NavItem("access_log", _("Access log"), reverse("school_access_log", kwargs={"pk": school.pk})))
    return out


def _is_current(path: str, url: str) -> bool:
    return path == url or (url != "/" and path.startswith(url))


def items(request) -> list[NavItem]:
    """Every link the user may follow from the navigation, tenancy's first, then each app's."""
    found = _own_items(request)
    for provider in _PROVIDERS:
        found.extend(provider(request))
    path = request.path
    return [NavItem(i.key, i.label, i.url, i.badge, _is_current(path, i.url)) for i in found]


def tab_keys(user) -> tuple[str, ...]:
    roles = selectors.roles_of(user)
    role = next((r for r in ROLE_ORDER if r in roles), None)
    return TABS.get(role, ("home",)) if role else ("home",)


def split(request, found: list[NavItem]) -> tuple[list[NavItem], list[NavItem]]:
    """(tabs, the rest): the role's daily tabs that exist for this user, then 更多 with the rest."""
    keys = tab_keys(request.user)
    by_key = {i.key: i for i in found}
    tabs = [by_key[k] for k in keys if k in by_key]
    rest = [i for i in found if i.key not in keys]
    more_url = reverse("nav_more")
    tabs.append(NavItem(MORE, _("More"), more_url, 0, request.path == more_url or any(i.current for i in rest)))
    return tabs[:5], rest


def nav_context(request) -> dict:
    """Template context processor (settings.TEMPLATES): the tab bar of the signed-in user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    found = items(request)
    tabs, rest = split(request, found)
    return {"nav_items": found, "nav_tabs": tabs, "nav_rest": rest}
