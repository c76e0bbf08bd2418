"""What overseers get on the archive pages, and the header links of a school's home.

tests/web/test_page_isolation.py::test_overseers_reach_gupei_pages expects every page below 400;
child pages and the archive's write pages answer overseers 404/403 by design (the bureau sees
aggregates; a child's identity only with an explicit grant). The expectation is recorded per page
as ArchivePage.overseer_status and checked here.
"""
from __future__ import annotations

import pytest
from django.urls import reverse

from .pages_archive import ARCHIVE_PAGES


def _request(client, page, tree, school):
    url = reverse(page.url_name, kwargs=page.kwargs(tree, school))
    if page.method == "post":
        return client.post(url, page.data(tree, school) if page.data else {})
    return client.get(url)


@pytest.mark.parametrize("page", ARCHIVE_PAGES, ids=[p.url_name for p in ARCHIVE_PAGES])
def test_overseers_on_archive_pages(client, tree, page):
    for username in ("gupei_township", "bureau_admin"):
        for school in (tree.gupei, tree.village_a):
            client.force_login(getattr(tree, username))
            status = _request(client, page, tree, school).status_code
            if page.overseer_status is None:
                assert status < 400, f"{username} on {page.url_name} of {school.code}: {status}"
            else:
                assert status == page.overseer_status, f"{username} on {page.url_name} of {school.code}: {status}"


def test_header_links_of_the_school(client, tree):
    client.force_login(tree.gupei_teacher)
    response = client.get(reverse("school_detail", kwargs={"pk": tree.gupei.pk}))
    links = {item.url for item in response.context["nav_items"]}
    assert reverse("school_dashboard", kwargs={"school_pk": tree.gupei.pk}) in links
    assert reverse("contact_tracker", kwargs={"school_pk": tree.gupei.pk}) in links
    assert reverse("children_list", kwargs={"school_pk": tree.gupei.pk}) in links


def test_header_links_follow_the_school_in_the_url(client, tree):
    client.force_login(tree.bureau_admin)  # no school of their own: links only on a school's page
    response = client.get(reverse("school_dashboard", kwargs={"school_pk": tree.menzhuang.pk}))
    urls = [item.url for item in response.context["nav_items"]]
    assert reverse("contact_tracker", kwargs={"school_pk": tree.menzhuang.pk}) in urls
    response = client.get(reverse("home"))
    archive = ("/dashboard/", "/tracker/", "/children/")
    assert not [item.url for item in response.context["nav_items"]
                if item.url.startswith("/schools/") and item.url.endswith(archive)]
