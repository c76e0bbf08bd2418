"""GET /api/v1/me/: the user, their memberships and their effective permissions per school."""
from __future__ import annotations

from django.urls import reverse

from tenancy import selectors
from tenancy.models import User
from tests.support.api import add_schools, client_for, queries_for

ME_URL = reverse("api:v1:me")


def _by_id(rows):
    return {row["id"]: row for row in rows}


def test_me_as_school_admin(tree):
    body = client_for(tree.gupei_admin).get(ME_URL).json()
    assert body["username"] == "gupei_admin"
    [membership] = body["memberships"]
    assert membership["role"] == "school_admin"
    assert membership["school"] == {"id": tree.gupei.id, "name": "古沛中心小学"}
    assert membership["district"] is None
    schools = _by_id(body["schools"])
    assert set(schools) == {tree.gupei.id}
    assert {"manage_staff", "manage_children", "view_child_identity"} <= set(schools[tree.gupei.id]["permissions"])
    assert body["districts"] == []


def test_me_as_township_admin_inherits_township_permissions_only(tree):
    body = client_for(tree.gupei_township).get(ME_URL).json()
    schools = _by_id(body["schools"])
    assert set(schools) == {tree.gupei.id, tree.village_a.id, tree.village_b.id}
    assert "manage_staff" in schools[tree.village_a.id]["permissions"]
    # A township admin oversees; it does not read children's identities in village schools.
    assert "view_child_identity" not in schools[tree.village_a.id]["permissions"]


def test_me_as_bureau_admin(tree):
    client = client_for(tree.bureau_admin)
    body = client.get(ME_URL).json()
    assert set(_by_id(body["schools"])) == {tree.gupei.id, tree.village_a.id, tree.village_b.id, tree.menzhuang.id}
    [district] = body["districts"]
    assert district["id"] == tree.district.id and "manage_schools" in district["permissions"]
    assert body["memberships"][0]["district"] == {"id": tree.district.id, "name": "明光市教育局"}


def test_me_as_user_without_roles(tree):
    body = client_for(tree.nobody).get(ME_URL).json()
    assert body["memberships"] == [] and body["schools"] == [] and body["districts"] == []


def test_permissions_by_school_matches_permissions_on_school(tree):
    """The batched selector behind /me/ follows exactly the per-school rules."""
    for username in ("bureau_admin", "bureau_inspector", "gupei_township", "gupei_admin", "gupei_teacher",
                     "gupei_clerk", "menzhuang_admin", "village_a_admin", "nobody"):
        batched = selectors.permissions_by_school(User.objects.get(username=username))
        fresh = User.objects.get(username=username)
        one_by_one = {s.id: selectors.permissions_on_school(fresh, s) for s in selectors.schools_visible_to(fresh)}
        assert batched == one_by_one, username


def test_me_costs_the_same_for_any_number_of_schools(tree):
    client = client_for(tree.bureau_admin)
    few = queries_for(lambda: client.get(ME_URL))
    add_schools(tree, 6)
    client = client_for(tree.bureau_admin)
    assert queries_for(lambda: client.get(ME_URL)) == few
