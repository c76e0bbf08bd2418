"""The registry of web pages whose URL names a school or an object, for the isolation test.

tests/web/test_page_isolation.py walks every URL pattern of the site (outside /api/ and /i18n/)
and FAILS for any pattern with a URL parameter that has no entry here. To add a page, append a
`Page` to PAGES (or call `register(Page(...))` from your own test module imported below):

    Page("child_detail", kwargs=lambda t, school: {"pk": make_child(t, school).pk})

`kwargs(tree, school)` returns the URL kwargs of an object OWNED BY `school` (gupei or
menzhuang of the `tree` fixture); create the object there if needed (school-owned rows need
`with tenant_scope([school.id])`). It is called afresh for every attempt.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from tenancy import services
from tenancy.models import Membership
from tenancy.roles import Role
from tests.support.access_log import Logged, logged


@dataclass(frozen=True)
class Page:
    url_name: str
    kwargs: Callable  # (tree, school) -> dict of URL kwargs for an object owned by `school`
    method: str = "get"
    data: Callable | None = None  # (tree, school) -> POST data a legitimate owner would send
    owner_status: int = 200  # what the school's own admin gets (POST actions redirect: 302)
    # What a teacher of the same school gets: 403 on pages that need more than view_home.
    teacher_status: int | None = None
    # What the school's materials clerk gets (view_home, manage_materials, submit_reports; a
    # child's name, grade and class only). None: the same as the school admin.
    clerk_status: int | None = None
    # What the township and bureau admins get on the page of a school they oversee. None: any
    # success (< 400). Pages of children's records answer overseers 404/403 by design (aggregates only).
    overseer_status: int | None = None
    # What the bureau inspector (read-only across the district) gets on the page of a school
    # of its district. None: on a GET what the overseers get; on a POST (a write) 403, or the
    # overseers' refusal where that is 4xx (a child's page it does not see: 404). Some actions refuse
    # with a message and a redirect (302); the walk then checks that nothing was written.
    inspector_status: int | None = None
    # The inspector's own job (docs/DOMAIN.md: it scores the manual checklist items): this POST writes.
    inspector_writes: bool = False
    # What a successful POST or file download writes to the access log:
    # (tree, school, kwargs, data, user) -> rows (tests.support.access_log.Logged), called right
    # after the request; [] where that user's POST is refused with a message (a 302). Required for
    # every POST and download page (the walk fails without it); a refused request (4xx) must write
    # nothing, whatever the page.
    logs: Callable | None = field(default=None, compare=False)
    notes: str = field(default="", compare=False)


_seq = itertools.count()

# The tree's users of each district (the other district has the same shape: tests/conftest.py).
# Every page is tried across districts both ways: one district's users on the other's objects.
THIS_DISTRICT = ["bureau_admin", "bureau_inspector", "gupei_township", "gupei_admin", "gupei_teacher", "gupei_clerk",
                 "village_a_admin", "menzhuang_admin", "menzhuang_teacher"]
OTHER_DISTRICT = ["other_bureau_admin", "other_bureau_inspector", "other_township", "other_admin", "other_teacher",
                  "other_clerk", "other_village_admin"]


def _school(t, school):
    return {"pk": school.pk}


def _staff_user(t, school):
    """A new member of the school's staff (a teacher), who does not hold the clerk role yet: every
    attempt can succeed, even a second overseer's on the same school."""
    user = services.user_create(username=f"isolation_{next(_seq)}", password=None, display_name="x")
    services.membership_grant(user=user, role=Role.TEACHER, school=school)
    return user


def _granted(t, school, kwargs, data, user):
    return logged(Membership.objects.get(school=school, user_id=data["user"], role=Role.CLERK), "create", user)


def _revoked(t, school, kwargs, data, user):
    return [Logged(school.pk, "delete", "tenancy.membership", str(kwargs["membership_pk"]), user.pk)]


def _revocable_membership(t, school):
    user = services.user_create(username=f"isolation_{next(_seq)}", password=None, display_name="x")
    membership = services.membership_grant(user=user, role=Role.TEACHER, school=school)
    return {"pk": school.pk, "membership_pk": membership.pk}


PAGES: list[Page] = [
    Page("school_detail", _school),
    # Staff management and the access log need manage_staff / view_access_log, which the inspector lacks.
    Page("school_staff", _school, teacher_status=403, clerk_status=403, inspector_status=403),
    Page("school_staff_grant", _school, method="post", owner_status=302, teacher_status=403, clerk_status=403,
         data=lambda t, s: {"user": _staff_user(t, s).pk, "role": Role.CLERK}, logs=_granted),
    Page("school_membership_revoke", _revocable_membership, method="post", owner_status=302, teacher_status=403,
         clerk_status=403, logs=_revoked),
    Page("school_access_log", _school, teacher_status=403, clerk_status=403, inspector_status=403),
]


def register(page: Page) -> None:
    PAGES.append(page)


@dataclass(frozen=True)
class DistrictPage:
    """A page whose URL names a district (the bureau's calendar), not a school: the school walker's
    roles do not fit, so tests/web/test_district_page_isolation.py runs these instead (another
    district's bureau admin gets 404; `statuses` maps a tree user to what they get here)."""

    url_name: str
    kwargs: Callable  # (tree, district) -> URL kwargs of an object of `district`
    statuses: dict  # username -> status in their own district
    method: str = "get"
    data: Callable | None = None
    # As Page.logs, with the district instead of a school: (tree, district, kwargs, data, user) -> rows.
    logs: Callable | None = None


DISTRICT_PAGES: list[DistrictPage] = []


def register_district(page: DistrictPage) -> None:
    DISTRICT_PAGES.append(page)


def _discover() -> None:
    """Import every tests/web/pages_*.py module; each calls register(...) for its app's pages."""
    import importlib
    import pkgutil
    from pathlib import Path

    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("pages_"):
            importlib.import_module(f"tests.web.{info.name}")


_discover()
