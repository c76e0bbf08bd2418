"""Isolation of the pages whose URL names a district (tests/web/pages.py DISTRICT_PAGES): another
district's bureau admin and users without a role get 404, anonymous users the login page, and
each user of the district what the page declares."""
from __future__ import annotations

import pytest
from django.urls import reverse

from tenancy import services
from tenancy.roles import Role
from tests.support.access_log import check_logged, log_mark

from .pages import DISTRICT_PAGES

IDS = [f"{p.url_name}-{p.method}" for p in DISTRICT_PAGES]


def _request(client, page, tree, district, user=None):
    """The page's request as `user` (None: anonymous), with the access-log check of the school
    walk (tests.support.access_log.check_logged)."""
    kwargs = page.kwargs(tree, district)
    url = reverse(page.url_name, kwargs=kwargs)
    data = page.data(tree, district) if page.data and page.method == "post" else {}
    mark = log_mark()  # after the objects of the request were made
    response = client.post(url, data) if page.method == "post" else client.get(url)
    check_logged(page, response, mark, lambda: page.logs(tree, district, kwargs, data, user), user,
                 f"{getattr(user, 'username', 'anonymous')} {page.method.upper()} {page.url_name} of {district.code}")
    return response


@pytest.fixture
def far_bureau(tree):
    user = services.user_create(username="far_bureau", password=None, display_name="far")
    services.membership_grant(user=user, role=Role.BUREAU_ADMIN, district=tree.other_district)
    return user


def test_district_pages_are_registered():
    assert {"district_semesters", "district_semester_edit", "district_semester_delete"} <= {
        p.url_name for p in DISTRICT_PAGES}


@pytest.mark.parametrize("page", DISTRICT_PAGES, ids=IDS)
def test_other_districts_get_404(client, tree, far_bureau, page):
    for user, district in ((far_bureau, tree.district), (tree.bureau_admin, tree.other_district),
                           (tree.gupei_admin, tree.other_district), (tree.nobody, tree.district)):
        client.force_login(user)
        response = _request(client, page, tree, district, user)
        assert response.status_code == 404, f"{user.username} on {page.url_name}: {response.status_code}"


@pytest.mark.parametrize("page", DISTRICT_PAGES, ids=IDS)
def test_users_of_the_district(client, tree, page):
    for username, status in page.statuses.items():
        client.force_login(getattr(tree, username))
        response = _request(client, page, tree, tree.district, getattr(tree, username))
        assert response.status_code == status, f"{username} on {page.url_name}: {response.status_code}"


@pytest.mark.parametrize("page", DISTRICT_PAGES, ids=IDS)
def test_anonymous_is_sent_to_login(client, tree, page):
    response = _request(client, page, tree, tree.district)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")
