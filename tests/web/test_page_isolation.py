"""Generic isolation test of every web page whose URL names a school or an object.

For each registered page (tests/web/pages.py), against both gupei's and menzhuang's objects:
- another school's users get 404 (never 403: the object's existence is not revealed);
- the school's own admin gets the page (or the action's redirect);
- a teacher of the school gets 403 where the page needs more than view_home;
- the school's materials clerk gets what the admin gets, unless the page declares clerk_status;
- anonymous users are sent to the login page;
- the township and bureau admins reach the pages of their subtree, and the bureau inspector reads
  them but writes nothing (every POST refused, the access log without a write of theirs);
- across districts, both ways: every user of the other district (same shape, a user per role)
  gets 404 on this district's pages, and every user of this district 404 on the other district's
  (whose own school admin gets the page, so the objects are real).
A new URL pattern with a parameter and no registry entry fails test_every_page_has_a_case.
"""
from __future__ import annotations

import pytest
from django.urls import get_resolver, reverse

from tenancy.models import AccessLog
from tenancy.scoping import system_school_ids, tenant_scope
from tests.support.access_log import check_logged, log_mark
from tests.support.routes import walk

from .pages import DISTRICT_PAGES, OTHER_DISTRICT, PAGES, THIS_DISTRICT

# Prefixes with their own isolation harness (the API) or no school data.
EXEMPT_PREFIXES = ("api/", "i18n/", "static/", "media/", "admin/")

OWNERS = {"gupei": "gupei_admin", "menzhuang": "menzhuang_admin"}
TEACHERS = {"gupei": "gupei_teacher", "menzhuang": "menzhuang_teacher"}
# Whose pages are tried by whom (all must get 404).
OUTSIDERS = {"gupei": ["menzhuang_admin", "menzhuang_teacher", *OTHER_DISTRICT],
             "menzhuang": ["gupei_admin", "gupei_township", "gupei_teacher", "gupei_clerk", "village_a_admin",
                           *OTHER_DISTRICT]}
# The tree has one materials clerk (gupei's); menzhuang's pages try them as an outsider above.
CLERKS = {"gupei": "gupei_clerk"}



def parametrised_patterns() -> dict[str, str]:
    """name -> route of every site URL pattern that takes a parameter (outside exempt prefixes)."""
    found = {}
    for route, p in walk(get_resolver().url_patterns):
        if route.startswith(EXEMPT_PREFIXES):
            continue
        takes_params = bool(getattr(p.pattern, "converters", None)) or p.pattern.regex.groups > 0
        if takes_params:
            found[p.name or route] = route
    return found


def test_every_page_has_a_case():
    registered = {page.url_name for page in PAGES} | {page.url_name for page in DISTRICT_PAGES}
    missing = {name: route for name, route in parametrised_patterns().items() if name not in registered}
    assert not missing, f"pages without an isolation case in tests/web/pages.py: {missing}"


def test_registry_names_exist():
    assert {page.url_name for page in PAGES} | {p.url_name for p in DISTRICT_PAGES} <= set(parametrised_patterns())


def test_walk_finds_the_school_pages():
    # Guards the walker itself: if it found nothing, the coverage test above would pass vacuously.
    assert {"school_detail", "school_staff", "school_access_log"} <= set(parametrised_patterns())


def _request(client, page, tree, school, user=None):
    """The page's request as `user` (None: anonymous), with its access-log check: a successful POST
    or file download writes exactly what the page declares (Page.logs), a refused request nothing."""
    kwargs = page.kwargs(tree, school)
    url = reverse(page.url_name, kwargs=kwargs)
    data = page.data(tree, school) if page.data and page.method == "post" else {}
    mark = log_mark()  # after the objects of the request were made
    response = client.post(url, data) if page.method == "post" else client.get(url)
    check_logged(page, response, mark, lambda: page.logs(tree, school, kwargs, data, user), user,
                 f"{getattr(user, 'username', 'anonymous')} {page.method.upper()} {page.url_name} of {school.code}")
    return response


CASES = [(page, code) for page in PAGES for code in ("gupei", "menzhuang")]
IDS = [f"{page.url_name}-{code}" for page, code in CASES]


@pytest.mark.parametrize(("page", "code"), CASES, ids=IDS)
def test_outsiders_get_404(client, tree, page, code):
    school = getattr(tree, code)
    for username in OUTSIDERS[code]:
        client.force_login(getattr(tree, username))
        response = _request(client, page, tree, school, getattr(tree, username))
        assert response.status_code == 404, f"{username} on {page.url_name} of {code}: {response.status_code}"


@pytest.mark.parametrize("page", PAGES, ids=[f"{p.url_name}-{p.method}" for p in PAGES])
def test_this_district_gets_404_on_the_other_districts_pages(client, tree, page):
    """The other way across districts: the other district's centre school's pages (its own admin
    gets them) are 404 for every user of this district, the bureau included."""
    client.force_login(tree.other_admin)
    assert _request(client, page, tree, tree.far_centre, tree.other_admin).status_code == page.owner_status
    for username in THIS_DISTRICT:
        client.force_login(getattr(tree, username))
        response = _request(client, page, tree, tree.far_centre, getattr(tree, username))
        assert response.status_code == 404, f"{username} on {page.url_name} of far_centre: {response.status_code}"


@pytest.mark.parametrize(("page", "code"), CASES, ids=IDS)
def test_owner_gets_the_page(client, tree, page, code):
    client.force_login(getattr(tree, OWNERS[code]))
    response = _request(client, page, tree, getattr(tree, code), getattr(tree, OWNERS[code]))
    assert response.status_code == page.owner_status


@pytest.mark.parametrize(("page", "code"), CASES, ids=IDS)
def test_teacher_of_the_school(client, tree, page, code):
    client.force_login(getattr(tree, TEACHERS[code]))
    response = _request(client, page, tree, getattr(tree, code), getattr(tree, TEACHERS[code]))
    expected = page.teacher_status if page.teacher_status is not None else page.owner_status
    assert response.status_code == expected


@pytest.mark.parametrize("page", PAGES, ids=[p.url_name for p in PAGES])
def test_clerk_of_the_school(client, tree, page):
    client.force_login(getattr(tree, CLERKS["gupei"]))
    response = _request(client, page, tree, tree.gupei, getattr(tree, CLERKS["gupei"]))
    expected = page.clerk_status if page.clerk_status is not None else page.owner_status
    assert response.status_code == expected


@pytest.mark.parametrize(("page", "code"), CASES, ids=IDS)
def test_anonymous_is_sent_to_login(client, tree, page, code):
    response = _request(client, page, tree, getattr(tree, code))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("page", PAGES, ids=[p.url_name for p in PAGES])
def test_overseers_reach_gupei_pages(client, tree, page):
    """The township admin and the bureau admin see Gupei's subtree (a village school too)."""
    for username in ("gupei_township", "bureau_admin"):
        for school in (tree.gupei, tree.village_a):
            client.force_login(getattr(tree, username))
            response = _request(client, page, tree, school, getattr(tree, username))
            expected = page.overseer_status
            ok = response.status_code == expected if expected is not None else response.status_code < 400
            assert ok, f"{username} on {page.url_name} of {school.code}: {response.status_code}"


def _writes_logged_by(user) -> int:
    """Rows every write leaves in the access log, whatever the school."""
    with tenant_scope(system_school_ids()):
        return AccessLog.objects.filter(user=user).exclude(action__in=("view", "export", "verify")).count()


def _inspector_expects(page) -> int | None:
    """None: any success (< 400)."""
    if page.inspector_status is not None:
        return page.inspector_status
    if page.method == "post":
        refused = page.overseer_status is not None and page.overseer_status >= 400
        return page.overseer_status if refused else 403
    return page.overseer_status


@pytest.mark.parametrize("page", PAGES, ids=[f"{p.url_name}-{p.method}" for p in PAGES])
def test_inspector_reads_but_writes_nothing(client, tree, page):
    """The bureau inspector reads the whole district (a village school and menzhuang too) like the
    bureau admin; every POST is refused and leaves no write in the access log, except the scoring of
    manual items that is its job (inspector_writes)."""
    inspector = tree.bureau_inspector
    client.force_login(inspector)
    for school in (tree.gupei, tree.village_a, tree.menzhuang):
        before = _writes_logged_by(inspector)
        response = _request(client, page, tree, school, inspector)
        expected = _inspector_expects(page)
        ok = response.status_code == expected if expected is not None else response.status_code < 400
        assert ok, f"bureau_inspector {page.method.upper()} {page.url_name} of {school.code}: {response.status_code}"
        wrote = _writes_logged_by(inspector) - before
        if page.method == "post" and page.inspector_writes:
            assert wrote, f"the inspector's {page.url_name} of {school.code} wrote nothing"
        else:
            assert not wrote, f"bureau_inspector {page.method.upper()} {page.url_name} of {school.code} wrote {wrote}"
