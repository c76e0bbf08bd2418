"""Schools: bureau admins create and edit; filters; pagination."""
from __future__ import annotations

from django.urls import reverse

from tenancy.models import School
from tenancy.roles import PERMISSIONS
from tests.support.api import add_schools, client_for, queries_for

LIST = reverse("api:v1:schools-list")


def _detail(school):
    return reverse("api:v1:schools-detail", args=[school.id])


def test_bureau_admin_creates_a_village_school(tree):
    client = client_for(tree.bureau_admin)
    response = client.post(LIST, {"district": tree.district.id, "parent": tree.gupei.id, "name": "古沛村小C",
                                  "code": "gupei-c", "township": "古沛镇"}, format="json")
    assert response.status_code == 201, response.content
    school = School.objects.get(code="gupei-c")
    assert school.path == f"{tree.gupei.path}{school.id}/"
    assert response.json()["parent"] == tree.gupei.id and response.json()["depth"] == 1
    # The township admin of gupei now oversees it.
    assert client_for(tree.gupei_township).get(_detail(school)).status_code == 200


def test_school_admin_cannot_create_schools(tree):
    response = client_for(tree.gupei_admin).post(
        LIST, {"district": tree.district.id, "name": "新学校", "code": "new"}, format="json")
    assert response.status_code == 403
    assert str(dict(PERMISSIONS)["manage_schools"]) in response.json()["detail"]
    assert not School.objects.filter(code="new").exists()


def test_create_in_another_district_is_indistinguishable_from_a_missing_one(tree):
    client = client_for(tree.bureau_admin)
    other = client.post(LIST, {"district": tree.other_district.id, "name": "x", "code": "x"}, format="json")
    missing = client.post(LIST, {"district": 999999, "name": "x", "code": "x"}, format="json")
    assert other.status_code == missing.status_code == 400
    assert other.json()["district"][0].replace(str(tree.other_district.id), "N") == \
        missing.json()["district"][0].replace("999999", "N")


def test_service_validation_errors_are_400_with_the_field(tree):
    client = client_for(tree.bureau_admin)
    response = client.post(LIST, {"district": tree.district.id, "name": "另一个", "code": "gupei"}, format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json() or "code" in response.json()
    assert School.objects.filter(code="gupei").count() == 1


def test_bureau_admin_moves_a_school_and_its_subtree(tree):
    client = client_for(tree.bureau_admin)
    response = client.patch(_detail(tree.gupei), {"parent": tree.menzhuang.id}, format="json")
    assert response.status_code == 200, response.content
    tree.village_a.refresh_from_db()
    assert tree.village_a.path.startswith(tree.menzhuang.path)
    # A cycle is refused by the service, as a 400 on the field.
    response = client.patch(_detail(tree.menzhuang), {"parent": tree.village_a.id}, format="json")
    assert response.status_code == 400 and "parent" in response.json()


def test_district_is_fixed_after_creation(tree):
    client = client_for(tree.bureau_admin)
    response = client.patch(_detail(tree.menzhuang), {"district": tree.other_district.id, "address": "门庄村"},
                            format="json")
    assert response.status_code == 200
    tree.menzhuang.refresh_from_db()
    assert tree.menzhuang.district_id == tree.district.id and tree.menzhuang.address == "门庄村"


def test_other_school_edit_is_404_own_school_edit_is_403(tree):
    assert client_for(tree.menzhuang_admin).patch(_detail(tree.gupei), {"name": "x"}, format="json").status_code == 404
    response = client_for(tree.gupei_admin).patch(_detail(tree.gupei), {"name": "x"}, format="json")
    assert response.status_code == 403
    tree.gupei.refresh_from_db()
    assert tree.gupei.name == "古沛中心小学"


def _ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_filters(tree):
    client = client_for(tree.bureau_admin)
    assert _ids(client.get(LIST, {"parent": tree.gupei.id})) == {tree.village_a.id, tree.village_b.id}
    assert _ids(client.get(LIST, {"code": "menzhuang"})) == {tree.menzhuang.id}
    assert len(_ids(client.get(LIST, {"district": tree.district.id}))) == 4
    # Another district's id filters to nothing, exactly like an id that does not exist.
    assert _ids(client.get(LIST, {"district": tree.other_district.id})) == set()
    assert _ids(client.get(LIST, {"district": 999999})) == set()
    # Filters narrow the scope; they never widen it.
    assert _ids(client_for(tree.menzhuang_admin).get(LIST, {"parent": tree.gupei.id})) == set()


def test_pagination_is_always_on_and_capped(tree):
    client = client_for(tree.bureau_admin)
    body = client.get(LIST, {"page_size": 2}).json()
    assert body["count"] == 4 and len(body["results"]) == 2 and body["next"] and body["previous"] is None
    second = client.get(body["next"]).json()
    assert len(second["results"]) == 2 and second["next"] is None
    assert not {r["id"] for r in body["results"]} & {r["id"] for r in second["results"]}
    add_schools(tree, 3)
    capped = client.get(LIST, {"page_size": 2, "page": 1})
    assert capped.json()["count"] == 7
    from api.pagination import Pagination

    # page_size above the cap is clamped to it rather than dumping everything.
    Pagination.max_page_size, saved = 3, Pagination.max_page_size
    try:
        assert len(client.get(LIST, {"page_size": 10_000}).json()["results"]) == 3
    finally:
        Pagination.max_page_size = saved


def test_school_list_costs_the_same_for_any_number_of_schools(tree):
    client = client_for(tree.bureau_admin)
    few = queries_for(lambda: client.get(LIST))
    add_schools(tree, 6)
    client = client_for(tree.bureau_admin)
    assert queries_for(lambda: client.get(LIST)) == few
