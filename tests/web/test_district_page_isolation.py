"""Isolation of the pages whose URL names a district (tests/web/pages.py DISTRICT_PAGES): every
user of the other district gets 404 on this district's pages and every user of this district 404
on the other district's (both directions, each user of the tree), users without a role 404,
anonymous users the login page, and each user of either district what the page declares in
their own district."""
from __future__ import annotations

import pytest
from django.urls import reverse

from tenancy.scoping import system_scope
from tests.support.access_log import check_logged, log_mark

from .pages import DISTRICT_PAGES, OTHER_DISTRICT, THIS_DISTRICT

IDS = [f"{p.url_name}-{p.method}" for p in DISTRICT_PAGES]


def _request(client, page, tree, district, user=None):
    """The page's request as `user` (None: anonymous), with the access-log check of the school
    walk (tests.support.access_log.check_logged)."""
    # The page's objects and its expected log rows are district-owned: made and read in every tenant.
    with system_scope("test: the objects of a district page"):
        kwargs = page.kwargs(tree, district)
    url = reverse(page.url_name, kwargs=kwargs)
    data = page.data(tree, district) if page.data and page.method == "post" else {}
    mark = log_mark()  # after the objects of the request were made
    response = client.post(url, data) if page.method == "post" else client.get(url)
    def expected():
        with system_scope("test: the access-log rows a district page should write"):
            return page.logs(tree, district, kwargs, data, user)

    check_logged(page, response, mark, expected, user,
                 f"{getattr(user, 'username', 'anonymous')} {page.method.upper()} {page.url_name} of {district.code}")
    return response


# A user of this district -> the user with the same role in the other district (the tree's other_*).
MIRROR = {"bureau_admin": "other_bureau_admin", "bureau_inspector": "other_bureau_inspector",
          "gupei_township": "other_township", "gupei_admin": "other_admin", "gupei_teacher": "other_teacher",
          "gupei_clerk": "other_clerk", "village_a_admin": "other_village_admin"}


def test_district_pages_are_registered():
    assert {"district_semesters", "district_semester_edit", "district_semester_delete"} <= {
        p.url_name for p in DISTRICT_PAGES}


@pytest.mark.parametrize("page", DISTRICT_PAGES, ids=IDS)
def test_other_districts_get_404(client, tree, page):
    tries = [(name, tree.district) for name in OTHER_DISTRICT] + [(name, tree.other_district) for name in THIS_DISTRICT]
    tries.append(("nobody", tree.district))
    for username, district in tries:
        client.force_login(getattr(tree, username))
        response = _request(client, page, tree, district, getattr(tree, username))
        assert response.status_code == 404, f"{username} on {page.url_name} of {district.code}: {response.status_code}"


@pytest.mark.parametrize("page", DISTRICT_PAGES, ids=IDS)
def test_users_of_the_district(client, tree, page):
    for username, status in page.statuses.items():
        client.force_login(getattr(tree, username))
        response = _request(client, page, tree, tree.district, getattr(tree, username))
        assert response.status_code == status, f"{username} on {page.url_name}: {response.status_code}"


@pytest.mark.parametrize("page", DISTRICT_PAGES, ids=IDS)
def test_users_of_the_other_district_in_theirs(client, tree, page):
    """The same page of the other district answers its users as this one answers this district's."""
    for username, status in page.statuses.items():
        mirror = MIRROR[username]
        client.force_login(getattr(tree, mirror))
        response = _request(client, page, tree, tree.other_district, getattr(tree, mirror))
        assert response.status_code == status, f"{mirror} on {page.url_name}: {response.status_code}"


@pytest.mark.parametrize("page", DISTRICT_PAGES, ids=IDS)
def test_anonymous_is_sent_to_login(client, tree, page):
    response = _request(client, page, tree, tree.district)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
