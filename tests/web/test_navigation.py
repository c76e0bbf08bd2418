"""The navigation: at most five tabs per role for its daily tasks, everything else on 更多."""
from __future__ import annotations

import pytest
from django.urls import reverse

from tenancy import navigation

ROLES = ("gupei_teacher", "gupei_clerk", "gupei_admin", "gupei_township", "bureau_inspector", "bureau_admin")
DAILY = {
    "gupei_teacher": ["home", "contact_tracker", "activities", "notifications", "more"],
    "gupei_clerk": ["home", "activities", "submissions", "notifications", "more"],
    "gupei_admin": ["home", "contact_tracker", "submissions", "notifications", "more"],
    "gupei_township": ["home", "reporting", "compliance", "notifications", "more"],
    "bureau_admin": ["home", "reporting", "compliance", "notifications", "more"],
}


@pytest.mark.parametrize("username", ROLES)
def test_each_role_has_at_most_five_tabs_and_the_rest_on_more(client, tree, username):
    client.force_login(getattr(tree, username))
    response = client.get(reverse("nav_more"))
    tabs, rest, found = (response.context[k] for k in ("nav_tabs", "nav_rest", "nav_items"))
    keys = [t.key for t in tabs]
    assert 2 <= len(tabs) <= 5 and keys[-1] == navigation.MORE
    if username in DAILY:
        assert keys == DAILY[username]
    # Every link is either a tab or on the 更多 page, once.
    assert {i.url for i in found} == {t.url for t in tabs[:-1]} | {i.url for i in rest}
    body = response.content.decode()
    for item in rest:
        assert f'href="{item.url}"' in body
    assert reverse("logout") in body and 'name="language"' in body and reverse("account_security") in body


def test_school_admin_finds_staff_and_access_log_on_more(client, tree):
    client.force_login(tree.gupei_admin)
    rest = {i.key for i in client.get(reverse("nav_more")).context["nav_rest"]}
    assert {"staff", "access_log", "children_list", "home_setup"} <= rest
    client.force_login(tree.gupei_teacher)
    rest = {i.key for i in client.get(reverse("nav_more")).context["nav_rest"]}
    assert not {"staff", "access_log"} & rest


def test_language_switch_lives_on_the_account_pages_only(client, tree):
    client.force_login(tree.gupei_teacher)
    assert 'name="language"' not in client.get(reverse("school_detail", kwargs={"pk": tree.gupei.pk})).content.decode()
    assert 'name="language"' in client.get(reverse("account_security")).content.decode()


def test_the_tab_of_the_current_page_is_marked(client, tree):
    client.force_login(tree.gupei_teacher)
    url = reverse("contact_tracker", kwargs={"school_pk": tree.gupei.pk})
    tabs = client.get(url).context["nav_tabs"]
    assert [t.key for t in tabs if t.current] == ["contact_tracker"]
