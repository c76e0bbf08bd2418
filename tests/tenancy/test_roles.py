"""Granting roles: nobody grants above their own role or outside their scope."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tenancy import services
from tenancy.models import Membership
from tenancy.roles import Role


def test_school_admin_grants_teacher_in_own_school(tree):
    m = services.staff_add(actor=tree.gupei_admin, school=tree.gupei, username="new_t", display_name="新老师",
                           role=Role.TEACHER, password="Xx-12345678")
    assert m.school == tree.gupei and m.granted_by == tree.gupei_admin


@pytest.mark.parametrize("role", [Role.TOWNSHIP_ADMIN, Role.BUREAU_ADMIN, Role.BUREAU_INSPECTOR])
def test_school_admin_cannot_grant_above_own_role(tree, role):
    target = {"district": tree.district} if role.startswith("bureau") else {"school": tree.gupei}
    with pytest.raises((PermissionDenied, ValidationError)):
        services.membership_grant(user=tree.gupei_teacher, role=role, actor=tree.gupei_admin, **target)
    assert not Membership.objects.filter(user=tree.gupei_teacher, role=role).exists()


def test_school_admin_cannot_grant_in_other_school(tree):
    with pytest.raises(PermissionDenied):
        services.membership_grant(user=tree.gupei_teacher, role=Role.TEACHER, school=tree.menzhuang,
                                  actor=tree.gupei_admin)


def test_teacher_cannot_grant_anything(tree):
    with pytest.raises(PermissionDenied):
        services.membership_grant(user=tree.nobody, role=Role.TEACHER, school=tree.gupei, actor=tree.gupei_teacher)


def test_township_admin_grants_in_village_school(tree):
    services.membership_grant(user=tree.nobody, role=Role.SCHOOL_ADMIN, school=tree.village_b, actor=tree.gupei_township)
    assert tree.nobody.has_perm("tenancy.manage_staff", tree.village_b)


def test_revoke_removes_guardian_permissions(tree):
    m = Membership.objects.get(user=tree.gupei_clerk)
    assert tree.gupei_clerk.has_perm("tenancy.manage_materials", tree.gupei)
    services.membership_revoke(membership=m, actor=tree.gupei_admin)
    from tenancy.models import User

    fresh = User.objects.get(pk=tree.gupei_clerk.pk)
    assert not fresh.has_perm("tenancy.manage_materials", tree.gupei)


def test_role_target_is_enforced_by_database(tree):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=tree.nobody, role=Role.BUREAU_ADMIN, school=tree.gupei)


def test_school_subtree_move_updates_paths(tree):
    services.school_update(school=tree.village_b, parent=tree.menzhuang, actor=tree.bureau_admin)
    tree.village_b.refresh_from_db()
    assert tree.village_b.path == f"{tree.menzhuang.path}{tree.village_b.id}/"
    with pytest.raises(ValidationError):
        services.school_update(school=tree.gupei, parent=tree.village_a, actor=tree.bureau_admin)


def test_role_changes_and_school_writes_are_access_logged(tree):
    from tenancy.models import AccessLog
    from tenancy.scoping import tenant_scope

    m = services.staff_add(actor=tree.gupei_admin, school=tree.gupei, username="logged", display_name="x",
                           role=Role.CLERK, password="Xx-12345678")
    services.membership_revoke(membership=m, actor=tree.gupei_admin)
    services.school_update(school=tree.gupei, actor=tree.bureau_admin, address="古沛镇")
    with tenant_scope([tree.gupei.id]):
        rows = list(AccessLog.objects.filter(object_type__in=["tenancy.membership", "tenancy.school"])
                    .values_list("action", "object_type", "user__username"))
    assert ("create", "tenancy.membership", "gupei_admin") in rows
    assert ("delete", "tenancy.membership", "gupei_admin") in rows
    assert ("update", "tenancy.school", "bureau_admin") in rows


def test_staff_add_refuses_existing_user_of_another_school(tree):
    with pytest.raises(ValidationError):
        services.staff_add(actor=tree.gupei_admin, school=tree.gupei, username="menzhuang_teacher",
                           display_name="x", role=Role.TEACHER)
    with pytest.raises(ValidationError):
        services.staff_add(actor=tree.gupei_admin, school=tree.gupei, username="bureau_inspector",
                           display_name="x", role=Role.TEACHER)
    assert not Membership.objects.filter(user=tree.menzhuang_teacher, school=tree.gupei).exists()
