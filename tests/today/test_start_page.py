"""The start page per role: each role's own work, with its scope and a link to where it is done,
and nothing of another school or district."""
from __future__ import annotations

from django.urls import reverse

from schools import services as school_services
from tenancy import services as tenancy_services
from tenancy.roles import Role
from tenancy.scoping import tenant_scope
from tests.support.schools import add_child


def _page(client, user):
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response


def _items(response) -> dict[str, list]:
    out: dict[str, list] = {}
    for section in response.context["todo"].sections:
        for item in section.items:
            out.setdefault(item.key, []).append(item)
    return out


def _one(response, key):
    found = _items(response).get(key, [])
    assert len(found) == 1, (key, found)
    return found[0]


def test_teacher_sees_own_children_missing_each_contact(client, work, today):
    response = _page(client, work.gupei_teacher)
    items = _items(response)
    # Two children are the teacher's: both lack all four contacts; the school's other children
    # (and the child without consent) are not counted.
    for kind in ("home_visit", "talk", "guardian_contact", "letter"):
        assert [i.count for i in items[f"contact_{kind}"]] == [2]
    assert {i.scope for k, v in items.items() for i in v if k.startswith("contact_")} == {"我负责的儿童"}
    body = response.content.decode()
    assert "我负责的儿童" in body and "还剩 60 天" in body
    # One contact less to make: the count follows the records.
    with tenant_scope([work.gupei.id]):
        school_services.care_contact_record(actor=work.gupei_teacher, child_id=work.g[0].id, kind="letter",
                                            happened_on=today)
    assert _one(_page(client, work.gupei_teacher), "contact_letter").count == 1


def test_teacher_sees_todays_activities(client, work, today):
    with tenant_scope([work.gupei.id]):
        school_services.activity_create(actor=work.gupei_clerk, school=work.gupei, date=today,
                                        kind="theme_activity", title="文体活动", text_record="跳绳")
    item = _one(_page(client, work.gupei_teacher), "activities_today")
    assert item.count == 1 and item.scope == "本校" and today.isoformat() in item.url


def test_clerk_sees_reporting_and_evidence_work(client, work):
    items = _items(_page(client, work.gupei_clerk))
    assert items["returned"][0].count == 1
    assert items["returned"][0].url == reverse("submission_detail", kwargs={"pk": work.returned.pk})
    assert items["due"][0].count == 2  # periods 2 and 3
    assert items["compile"][0].count == 2
    assert items["activity_photo"][0].count == 1 and items["activity_text"][0].count == 1
    assert "contact_letter" not in items  # not a proxy parent
    assert [k for k in items][0] == "returned"  # most urgent first


def test_school_admin_sees_reporting_consent_archive_and_staff(client, work):
    newcomer = tenancy_services.user_create(username="newcomer", password=None)
    tenancy_services.membership_grant(user=newcomer, role=Role.TEACHER, school=work.gupei)
    items = _items(_page(client, work.gupei_admin))
    assert items["returned"][0].count == 1 and items["consent"][0].count == 1
    assert items["archive"][0].count >= 1
    assert items["staff"][0].count == 1  # the newcomer; gupei_teacher is a proxy parent
    assert {i.scope for v in items.values() for i in v} == {"本校"}


def test_township_sees_its_village_schools(client, work):
    items = _items(_page(client, work.gupei_township))
    assert items["late"][0].count == 1  # village A did not send period 1
    assert [i.school_id for i in items["coverage"]] == [work.village_a.pk]
    assert {i.scope for v in items.values() for i in v} == {"本镇村小"}
    assert "returned" not in items  # gupei's own return is the centre school's, not a village's


def test_bureau_sees_reviews_returns_and_laggards(client, work):
    response = _page(client, work.bureau_admin)
    items = _items(response)
    assert items["review"][0].count == 1  # menzhuang's
    assert items["returned"][0].count == 1 and items["late"][0].count == 1
    assert {i.school_id for i in items["behind"]} == {work.gupei.pk, work.menzhuang.pk, work.village_a.pk}
    assert {i.scope for v in items.values() for i in v} == {"全区"}
    assert "全区" in response.content.decode()


def test_several_roles_several_sections_most_urgent_first(client, work):
    tenancy_services.membership_grant(user=work.gupei_teacher, role=Role.CLERK, school=work.gupei)
    sections = _page(client, work.gupei_teacher).context["todo"].sections
    assert [s.role for s in sections] == ["clerk", "teacher"]  # the returned submission first


def test_every_link_opens_for_its_user(client, work):
    for name in ("gupei_teacher", "gupei_clerk", "gupei_admin", "gupei_township", "bureau_admin",
                 "bureau_inspector", "menzhuang_admin"):
        user = getattr(work, name)
        response = _page(client, user)
        urls = {i.url for v in _items(response).values() for i in v}
        assert urls, name
        for url in urls:
            assert client.get(url).status_code == 200, (name, url)
            client.force_login(user)


def test_no_other_school_or_district_appears(client, work):
    far = add_child(work.far_school, 900)
    del far
    menzhuang = _page(client, work.menzhuang_admin)
    body = menzhuang.content.decode()
    assert "古沛" not in body
    assert all(i.school_id in (None, work.menzhuang.pk) for v in _items(menzhuang).values() for i in v)
    assert "returned" not in _items(menzhuang)  # gupei's return is not menzhuang's
    other = _page(client, work.other_bureau_admin)
    body = other.content.decode()
    assert "古沛" not in body and "门庄" not in body
    assert not any(i.school_id in (work.gupei.pk, work.menzhuang.pk, work.village_a.pk)
                   for v in _items(other).values() for i in v)
    assert not _items(other).get("returned")


def test_user_without_role_is_told_so(client, tree):
    response = _page(client, tree.nobody)
    assert "没有角色" in response.content.decode() and not response.context["todo"].sections


def test_queries_do_not_grow_with_schools_and_children(client, work, today, django_assert_max_num_queries):
    client.force_login(work.bureau_admin)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("home"))
    for i in range(4):
        school = tenancy_services.school_create(district=work.district, name=f"新学校{i}", code=f"new-{i}",
                                                parent=work.gupei)
        work.report.schools.add(school)
        for n in range(3):
            add_child(school, 500 + 10 * i + n)
    from submissions import services as submission_services

    submission_services.periods_open(today=today)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("home"))
    assert len(_items(response)["behind"]) == 3
    assert len(many) == len(few)
    client.force_login(work.gupei_teacher)
    with django_assert_max_num_queries(40):
        client.get(reverse("home"))


def test_api_serves_the_same_list(client, work):
    client.force_login(work.gupei_clerk)
    body = client.get(reverse("api:v1:today")).json()
    page = _items(_page(client, work.gupei_clerk))
    assert body["username"] == "gupei_clerk"
    items = {i["key"]: i for s in body["sections"] for i in s["items"]}
    assert {k: v[0].count for k, v in page.items()} == {k: i["count"] for k, i in items.items()}
    assert items["returned"]["scope"] == "本校" and items["returned"]["urgency"] == 0
    assert body["schools"] == [work.gupei.pk]
    client.logout()
    assert client.get(reverse("api:v1:today")).status_code == 401


def test_dashboard_figures_name_their_scope(client, work):
    """The school's children are counted for the school; the overdue list only for the children
    the user may see: a proxy parent's own."""
    import re

    url = reverse("school_dashboard", kwargs={"school_pk": work.gupei.pk})
    for user, overdue_scope in ((work.gupei_teacher, "我负责的儿童"), (work.gupei_admin, "本校")):
        client.force_login(user)
        body = client.get(url).content.decode()
        assert re.search(r'data-scope="children">本校<', body)
        assert re.search(rf'data-scope="overdue">{overdue_scope}<', body), user
