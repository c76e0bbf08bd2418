"""The home page's school list per role, the school page, and the one selector behind their counts."""
from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tenancy import selectors, services
from tenancy.roles import Role


def _listed(response) -> list[str]:
    return [s.name for s in response.context["schools"]]


def test_bureau_sees_its_district_with_counts(client, tree):
    client.force_login(tree.bureau_admin)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert _listed(response) == ["古沛中心小学", "古沛村小A", "古沛村小B", "门庄小学"]  # not 远方小学
    counts = {s.code: (s.staff_count, s.village_count) for s in response.context["schools"]}
    # gupei: township admin, admin, teacher, clerk; village_a: its admin; menzhuang: admin, teacher.
    assert counts == {"gupei": (4, 2), "gupei-a": (1, 0), "gupei-b": (0, 0), "menzhuang": (2, 0)}
    body = response.content.decode()
    assert "远方小学" not in body and "村小" in body


def test_inspector_sees_the_district_too(client, tree):
    client.force_login(tree.bureau_inspector)
    assert len(_listed(client.get(reverse("home")))) == 4


def test_township_sees_its_subtree_only(client, tree):
    client.force_login(tree.gupei_township)
    response = client.get(reverse("home"))
    assert _listed(response) == ["古沛中心小学", "古沛村小A", "古沛村小B"]
    assert "门庄小学" not in response.content.decode()


def test_school_users_land_on_their_start_page(client, tree):
    """A school user's home is their to-do list (tests/today), with a link to their school's page."""
    for user, school in ((tree.gupei_admin, tree.gupei), (tree.gupei_teacher, tree.gupei),
                         (tree.menzhuang_admin, tree.menzhuang)):
        client.force_login(user)
        response = client.get(reverse("home"))
        assert response.status_code == 200
        assert response.context["schools"] == []
        assert reverse("school_detail", kwargs={"pk": school.pk}) in response.content.decode()


def test_user_without_role_is_told_so(client, tree):
    client.force_login(tree.nobody)
    response = client.get(reverse("home"))
    assert response.status_code == 200 and "没有角色" in response.content.decode()


def test_staff_counted_once_per_person(tree):
    services.membership_grant(user=tree.gupei_teacher, role=Role.CLERK, school=tree.gupei)
    gupei = selectors.school_summary(tree.bureau_admin, tree.gupei.pk)
    assert gupei.staff_count == 4


def test_summary_is_one_query_whatever_the_number_of_schools(tree):
    user = tree.bureau_admin
    selectors.memberships_of(user)  # cached per request in real use
    with CaptureQueriesContext(connection) as few:
        assert len(list(selectors.school_summaries(user))) == 4
    for i in range(6):
        school = services.school_create(district=tree.district, name=f"新学校{i}", code=f"new-{i}", parent=tree.gupei)
        u = services.user_create(username=f"new_{i}", password=None)
        services.membership_grant(user=u, role=Role.TEACHER, school=school)
    with CaptureQueriesContext(connection) as many:
        schools = list(selectors.school_summaries(user))
    assert len(schools) == 10
    assert len(few) == len(many) == 1
    assert {s.code: s.village_count for s in schools}["gupei"] == 8


def test_home_page_queries_do_not_grow_with_schools(client, tree):
    client.force_login(tree.bureau_admin)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("home"))
    for i in range(6):
        services.school_create(district=tree.district, name=f"新学校{i}", code=f"new-{i}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("home"))
    assert len(response.context["schools"]) == 10
    assert len(many) == len(few)


def test_school_page(client, tree, django_assert_max_num_queries):
    client.force_login(tree.gupei_admin)
    # A fixed budget: the page plus one query per app for its header links (e.g. the notifications badge).
    with django_assert_max_num_queries(20):
        response = client.get(reverse("school_detail", kwargs={"pk": tree.gupei.pk}))
    body = response.content.decode()
    assert response.status_code == 200
    assert "古沛中心小学" in body
    # A school admin of the centre school does not oversee the villages: no links to them.
    assert reverse("school_detail", kwargs={"pk": tree.village_a.pk}) not in body
    assert reverse("school_staff", kwargs={"pk": tree.gupei.pk}) in body
    assert reverse("school_access_log", kwargs={"pk": tree.gupei.pk}) in body
    assert response.context["school"].staff_count == 4


def test_township_school_page_lists_its_villages(client, tree):
    client.force_login(tree.gupei_township)
    body = client.get(reverse("school_detail", kwargs={"pk": tree.gupei.pk})).content.decode()
    assert reverse("school_detail", kwargs={"pk": tree.village_a.pk}) in body and "古沛村小B" in body


def test_teacher_school_page_has_no_admin_links(client, tree):
    client.force_login(tree.gupei_teacher)
    body = client.get(reverse("school_detail", kwargs={"pk": tree.gupei.pk})).content.decode()
    assert reverse("school_staff", kwargs={"pk": tree.gupei.pk}) not in body
    assert reverse("school_access_log", kwargs={"pk": tree.gupei.pk}) not in body


def test_village_page_names_its_overseeing_school(client, tree):
    client.force_login(tree.village_a_admin)
    response = client.get(reverse("school_detail", kwargs={"pk": tree.village_a.pk}))
    body = response.content.decode()
    assert "上级学校" in body and "古沛中心小学" in body
    # The village admin cannot open the centre school's page: not in their visible schools.
    assert client.get(reverse("school_detail", kwargs={"pk": tree.gupei.pk})).status_code == 404


def test_nav_links_to_own_school_pages(client, tree):
    client.force_login(tree.gupei_admin)
    # Everything that is not a daily tab (the access log, signing out) is on the 更多 page.
    body = client.get(reverse("school_detail", kwargs={"pk": tree.gupei.pk})).content.decode()
    assert f'href="{reverse("nav_more")}"' in body
    more = client.get(reverse("nav_more")).content.decode()
    assert "访问日志" in more and "退出登录" in more
