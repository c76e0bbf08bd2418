"""Staff and role management by school admins: list, add, grant, revoke; least privilege."""
from __future__ import annotations

import pytest
from django.urls import reverse

from tenancy import selectors
from tenancy.models import AccessLog, Membership, User
from tenancy.roles import Role
from tenancy.scoping import tenant_scope


def _staff_url(school):
    return reverse("school_staff", kwargs={"pk": school.pk})


def _log(school):
    with tenant_scope([school.id]):
        # Entries written by the test itself: the tree's setup logs as a system user (None).
        return list(AccessLog.objects.filter(school=school, user__isnull=False)
                    .values_list("action", "object_type", "user__username"))


def _new_staff(**overrides):
    data = {"username": "gupei_newteacher", "display_name": "古沛 新老师", "role": Role.TEACHER,
            "password": "Qiaotou-2026-ok"}
    data.update(overrides)
    return data


def test_staff_list_shows_people_and_roles(client, tree, django_assert_max_num_queries):
    client.force_login(tree.gupei_admin)
    with django_assert_max_num_queries(20):
        response = client.get(_staff_url(tree.gupei))
    assert response.status_code == 200
    body = response.content.decode()
    for name in ("gupei_township", "gupei_admin", "gupei_teacher", "gupei_clerk"):
        assert name in body
    assert "menzhuang" not in body
    assert "教师 / 代理家长" in body and "材料员" in body and "中心校管理员" in body
    clerk = Membership.objects.get(user=tree.gupei_clerk)
    assert reverse("school_membership_revoke", kwargs={"pk": tree.gupei.pk, "membership_pk": clerk.pk}) in body
    assert reverse("school_staff_grant", kwargs={"pk": tree.gupei.pk}) in body


def test_role_choices_are_only_those_the_actor_may_grant(client, tree):
    client.force_login(tree.gupei_admin)
    choices = [v for v, _l in client.get(_staff_url(tree.gupei)).context["add_form"].fields["role"].choices if v]
    assert choices == [Role.SCHOOL_ADMIN, Role.TEACHER, Role.CLERK]
    client.force_login(tree.gupei_township)
    choices = [v for v, _l in client.get(_staff_url(tree.gupei)).context["add_form"].fields["role"].choices if v]
    assert choices == [Role.TOWNSHIP_ADMIN, Role.SCHOOL_ADMIN, Role.TEACHER, Role.CLERK]


def test_add_staff_member(client, tree):
    client.force_login(tree.gupei_admin)
    response = client.post(_staff_url(tree.gupei), _new_staff())
    assert response.status_code == 302
    user = User.objects.get(username="gupei_newteacher")
    assert user.display_name == "古沛 新老师"
    assert list(Membership.objects.filter(user=user).values_list("role", "school_id")) == [(Role.TEACHER, tree.gupei.id)]
    assert selectors.has_school_perm(user, "record_contacts", tree.gupei)
    assert ("create", "tenancy.membership", "gupei_admin") in _log(tree.gupei)
    # The new teacher can log in with the initial password.
    client.post(reverse("logout"))
    assert client.post(reverse("login"), {"username": "gupei_newteacher", "password": "Qiaotou-2026-ok"}).status_code == 302


def test_add_success_message(client, tree):
    client.force_login(tree.gupei_admin)
    response = client.post(_staff_url(tree.gupei), _new_staff(), follow=True)
    assert "已将古沛 新老师添加为本校教职工" in response.content.decode()


@pytest.mark.parametrize(("overrides", "field"), [
    ({"role": Role.TOWNSHIP_ADMIN}, "role"),      # above the actor's own role
    ({"role": Role.BUREAU_ADMIN}, "role"),
    ({"username": "menzhuang_teacher"}, "username"),  # taken
    ({"username": "has space!"}, "username"),
    ({"password": "123"}, "password"),           # too short, numeric
    ({"display_name": ""}, "display_name"),
])
def test_bad_input_is_refused_and_nothing_written(client, tree, overrides, field):
    client.force_login(tree.gupei_admin)
    users_before, members_before = User.objects.count(), Membership.objects.count()
    response = client.post(_staff_url(tree.gupei), _new_staff(**overrides))
    assert response.status_code == 200
    assert field in response.context["add_form"].errors
    assert (User.objects.count(), Membership.objects.count()) == (users_before, members_before)
    assert _log(tree.gupei) == []


def test_grant_another_role(client, tree):
    client.force_login(tree.gupei_admin)
    response = client.post(reverse("school_staff_grant", kwargs={"pk": tree.gupei.pk}),
                           {"user": tree.gupei_teacher.pk, "role": Role.CLERK})
    assert response.status_code == 302
    assert set(Membership.objects.filter(user=tree.gupei_teacher).values_list("role", flat=True)) == {
        Role.TEACHER, Role.CLERK}
    assert selectors.has_school_perm(tree.gupei_teacher, "manage_materials", tree.gupei)
    assert ("create", "tenancy.membership", "gupei_admin") in _log(tree.gupei)


def test_grant_refuses_roles_above_own_and_people_from_elsewhere(client, tree):
    client.force_login(tree.gupei_admin)
    url = reverse("school_staff_grant", kwargs={"pk": tree.gupei.pk})
    before = Membership.objects.count()
    client.post(url, {"user": tree.gupei_teacher.pk, "role": Role.TOWNSHIP_ADMIN})
    client.post(url, {"user": tree.menzhuang_teacher.pk, "role": Role.CLERK})  # not gupei staff
    client.post(url, {"user": tree.gupei_teacher.pk, "role": Role.TEACHER})  # already held
    assert Membership.objects.count() == before
    assert _log(tree.gupei) == []


def test_revoke_a_role(client, tree):
    client.force_login(tree.gupei_admin)
    membership = Membership.objects.get(user=tree.gupei_clerk, school=tree.gupei)
    response = client.post(reverse("school_membership_revoke", kwargs={"pk": tree.gupei.pk, "membership_pk": membership.pk}))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert not selectors.has_school_perm(User.objects.get(pk=tree.gupei_clerk.pk), "manage_materials", tree.gupei)
    assert ("delete", "tenancy.membership", "gupei_admin") in _log(tree.gupei)


def test_cannot_revoke_own_role_or_one_above(client, tree):
    client.force_login(tree.gupei_admin)
    own = Membership.objects.get(user=tree.gupei_admin, school=tree.gupei)
    township = Membership.objects.get(user=tree.gupei_township, school=tree.gupei)
    for m in (own, township):
        response = client.post(reverse("school_membership_revoke", kwargs={"pk": tree.gupei.pk, "membership_pk": m.pk}),
                               follow=True)
        assert response.status_code == 200
        assert Membership.objects.filter(pk=m.pk).exists()
    assert _log(tree.gupei) == []
    # And no revoke button is offered for them.
    body = client.get(_staff_url(tree.gupei)).content.decode()
    for m in (own, township):
        assert reverse("school_membership_revoke", kwargs={"pk": tree.gupei.pk, "membership_pk": m.pk}) not in body


def test_membership_of_another_school_is_404_through_own_school_url(client, tree):
    client.force_login(tree.gupei_admin)
    other = Membership.objects.get(user=tree.menzhuang_teacher)
    response = client.post(reverse("school_membership_revoke", kwargs={"pk": tree.gupei.pk, "membership_pk": other.pk}))
    assert response.status_code == 404
    assert Membership.objects.filter(pk=other.pk).exists()


@pytest.mark.parametrize("username", ["gupei_teacher", "gupei_clerk", "bureau_inspector"])
def test_roles_without_manage_staff_get_403(client, tree, username):
    client.force_login(getattr(tree, username))
    assert client.get(_staff_url(tree.gupei)).status_code == 403
    response = client.post(_staff_url(tree.gupei), _new_staff())
    assert response.status_code == 403
    assert not User.objects.filter(username="gupei_newteacher").exists()


def test_township_admin_manages_a_village_school(client, tree):
    client.force_login(tree.gupei_township)
    response = client.post(_staff_url(tree.village_b), _new_staff(username="village_b_admin", role=Role.SCHOOL_ADMIN))
    assert response.status_code == 302
    user = User.objects.get(username="village_b_admin")
    assert selectors.has_school_perm(user, "manage_staff", tree.village_b)
