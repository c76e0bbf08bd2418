"""Memberships through the API: a school admin manages their own school's staff; nobody grants a
role above their own; another school's membership is 404."""
from __future__ import annotations

from django.urls import reverse

from tenancy import selectors
from tenancy.models import Membership, User
from tenancy.roles import Role
from tests.support.api import client_for

LIST = reverse("api:v1:memberships-list")
TOKEN = reverse("api:v1:auth-token")


def _detail(m):
    return reverse("api:v1:memberships-detail", args=[m.id])


def _grant(actor, **body):
    return client_for(actor).post(LIST, body, format="json")


def test_school_admin_adds_a_new_teacher_who_can_then_log_in(tree):
    response = _grant(tree.gupei_admin, role=Role.TEACHER, school=tree.gupei.id, username="li_laoshi",
                      display_name="李老师", password="Qiu-Shui-2026!")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user"]["username"] == "li_laoshi" and body["role"] == "teacher"
    assert body["school"] == {"id": tree.gupei.id, "name": "古沛中心小学"} and body["granted_by"] == "gupei_admin"
    user = User.objects.get(username="li_laoshi")
    assert user.display_name == "李老师"
    assert selectors.has_school_perm(user, "record_contacts", tree.gupei)
    assert client_for(None).post(TOKEN, {"username": "li_laoshi", "password": "Qiu-Shui-2026!"},
                                 format="json").status_code == 200


def test_school_admin_grants_an_existing_user_a_second_role(tree):
    response = _grant(tree.gupei_admin, role=Role.CLERK, school=tree.gupei.id, username="gupei_teacher")
    assert response.status_code == 201
    assert set(Membership.objects.filter(user=tree.gupei_teacher).values_list("role", flat=True)) == {"teacher", "clerk"}


def test_nobody_grants_a_role_above_their_own(tree):
    response = _grant(tree.gupei_admin, role=Role.TOWNSHIP_ADMIN, school=tree.gupei.id, username="gupei_teacher")
    assert response.status_code == 403
    assert response.json()["detail"]  # the service's message, not a generic one
    assert "grant" in response.json()["detail"].lower() or "授予" in response.json()["detail"]
    assert not Membership.objects.filter(user=tree.gupei_teacher, role=Role.TOWNSHIP_ADMIN).exists()
    # Nor a bureau role, nor anything at all for a teacher.
    assert _grant(tree.gupei_admin, role=Role.BUREAU_ADMIN, district=tree.district.id,
                  username="gupei_teacher").status_code == 403
    assert _grant(tree.gupei_teacher, role=Role.TEACHER, school=tree.gupei.id, username="x").status_code == 403
    assert not User.objects.filter(username="x").exists()


def test_school_admin_cannot_add_staff_to_another_school(tree):
    response = _grant(tree.gupei_admin, role=Role.TEACHER, school=tree.menzhuang.id, username="spy")
    assert response.status_code == 400  # the school id is "not found", as for a missing school
    assert "school" in response.json()
    assert not User.objects.filter(username="spy").exists()


def test_a_school_admin_may_appoint_another_school_admin(tree):
    assert _grant(tree.gupei_admin, role=Role.SCHOOL_ADMIN, school=tree.gupei.id,
                  username="gupei_clerk").status_code == 201


def test_bureau_admin_grants_a_bureau_role_to_an_existing_user_only(tree):
    ok = _grant(tree.bureau_admin, role=Role.BUREAU_INSPECTOR, district=tree.district.id, username="gupei_clerk")
    assert ok.status_code == 201 and ok.json()["district"]["id"] == tree.district.id
    missing = _grant(tree.bureau_admin, role=Role.BUREAU_INSPECTOR, district=tree.district.id, username="ghost")
    assert missing.status_code == 400 and "username" in missing.json()


def test_input_errors_are_clear(tree):
    both = _grant(tree.bureau_admin, role=Role.TEACHER, school=tree.gupei.id, district=tree.district.id, username="a")
    assert both.status_code == 400 and "non_field_errors" in both.json()
    wrong_target = _grant(tree.bureau_admin, role=Role.BUREAU_ADMIN, school=tree.gupei.id, username="gupei_clerk")
    assert wrong_target.status_code == 400 and "district" in wrong_target.json()
    weak = _grant(tree.gupei_admin, role=Role.TEACHER, school=tree.gupei.id, username="weak", password="123")
    assert weak.status_code == 400 and "password" in weak.json()
    assert not User.objects.filter(username__in=["a", "weak"]).exists()


def test_revoke(tree):
    membership = tree.gupei_teacher.memberships.get()
    assert client_for(tree.gupei_admin).delete(_detail(membership)).status_code == 204
    assert not Membership.objects.filter(pk=membership.pk).exists()
    fresh = User.objects.get(pk=tree.gupei_teacher.pk)
    assert not selectors.has_school_perm(fresh, "view_home", tree.gupei)
    # The revoked teacher's API access to the school ends with it.
    assert client_for(fresh).get(reverse("api:v1:schools-detail", args=[tree.gupei.id])).status_code == 404


def test_revoking_a_role_above_your_own_is_403(tree):
    township = tree.gupei_township.memberships.get()
    response = client_for(tree.gupei_admin).delete(_detail(township))
    assert response.status_code == 403 and response.json()["detail"]
    assert Membership.objects.filter(pk=township.pk).exists()


def test_another_schools_membership_is_404(tree):
    membership = tree.gupei_teacher.memberships.get()
    client = client_for(tree.menzhuang_admin)
    assert client.get(_detail(membership)).status_code == 404
    assert client.delete(_detail(membership)).status_code == 404
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_filters(tree):
    client = client_for(tree.bureau_admin)
    rows = client.get(LIST, {"role": "teacher"}).json()["results"]
    assert {r["user"]["username"] for r in rows} == {"gupei_teacher", "menzhuang_teacher"}
    rows = client.get(LIST, {"school": tree.menzhuang.id}).json()["results"]
    assert {r["user"]["username"] for r in rows} == {"menzhuang_admin", "menzhuang_teacher"}
    rows = client.get(LIST, {"district": tree.district.id}).json()["results"]
    assert {r["role"] for r in rows} == {"bureau_admin", "bureau_inspector"}
    assert client.get(LIST, {"role": "emperor"}).status_code == 400
    # A school admin's list is its own school's staff, filtered or not.
    rows = client_for(tree.gupei_admin).get(LIST, {"school": tree.menzhuang.id}).json()["results"]
    assert rows == []
