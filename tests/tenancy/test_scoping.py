"""Fail-closed tenancy: the ORM refuses unscoped queries and PostgreSQL RLS hides rows."""
import pytest
from django.db import connection
from django_scopes import ScopeError

from tenancy import selectors, services
from tenancy.models import AccessLog
from tenancy.rls import school_owned_models
from tenancy.scoping import tenant_scope


def _log(school, user):
    with tenant_scope([school.id]):
        return services.access_log_record(user=user, school_id=school.id, action="view", object_type="x", object_id=1)


def _raw_count():
    # Only the rows this module writes (school creation logs its own entries too).
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tenancy_accesslog WHERE object_type = 'x'")
        return cursor.fetchone()[0]


def test_orm_query_without_scope_raises(tree):
    _log(tree.gupei, tree.gupei_admin)
    with pytest.raises(ScopeError):
        list(AccessLog.objects.all())


def test_raw_sql_without_scope_returns_no_rows(tree):
    _log(tree.gupei, tree.gupei_admin)
    _log(tree.menzhuang, tree.menzhuang_admin)
    assert _raw_count() == 0
    with tenant_scope([tree.gupei.id]):
        assert _raw_count() == 1
    # The setting is reset when the scope ends, even inside the test's wrapping transaction.
    assert _raw_count() == 0


def test_scope_shows_only_its_schools(tree):
    _log(tree.gupei, tree.gupei_admin)
    _log(tree.menzhuang, tree.menzhuang_admin)
    with tenant_scope([tree.menzhuang.id]):
        assert set(AccessLog.objects.values_list("school_id", flat=True)) == {tree.menzhuang.id}
        with connection.cursor() as cursor:
            cursor.execute("SELECT DISTINCT school_id FROM tenancy_accesslog")
            assert [r[0] for r in cursor.fetchall()] == [tree.menzhuang.id]


def test_nested_scope_restores_parent(tree):
    _log(tree.gupei, tree.gupei_admin)
    _log(tree.menzhuang, tree.menzhuang_admin)
    with tenant_scope([tree.gupei.id, tree.menzhuang.id]):
        with tenant_scope([tree.gupei.id]):
            assert _raw_count() == 1
        assert _raw_count() == 2


def test_rls_refuses_writes_outside_scope(tree):
    from django.db import DatabaseError, transaction

    with tenant_scope([tree.gupei.id]):
        with pytest.raises(DatabaseError, match="row-level security"):
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(
                        "INSERT INTO tenancy_accesslog (school_id, at, action, object_type, object_id, detail)"
                        " VALUES (%s, now(), 'view', 'x', '1', '{}')",
                        [tree.menzhuang.id],
                    )


def test_empty_scope_sees_nothing(tree):
    _log(tree.gupei, tree.gupei_admin)
    with tenant_scope([]):
        assert AccessLog.objects.count() == 0
        assert _raw_count() == 0


def test_every_school_owned_table_has_forced_rls(db):
    models = school_owned_models()
    assert models, "no school-owned models found"
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(
                "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass",
                [model._meta.db_table],
            )
            assert cursor.fetchone() == (True, True), model._meta.db_table
            cursor.execute("SELECT count(*) FROM pg_policies WHERE tablename = %s", [model._meta.db_table])
            assert cursor.fetchone()[0] == 1, model._meta.db_table


def test_every_school_owned_model_has_not_null_school_fk(db):
    for model in school_owned_models():
        field = model._meta.get_field("school")
        assert not field.null, model


def test_app_role_is_not_superuser_nor_bypassrls(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)


def test_scope_of_each_role(tree):
    ids = lambda u: set(selectors.school_ids_for_user(u))  # noqa: E731
    district_schools = {tree.gupei.id, tree.village_a.id, tree.village_b.id, tree.menzhuang.id}
    assert ids(tree.bureau_admin) == district_schools
    assert ids(tree.bureau_inspector) == district_schools
    assert ids(tree.gupei_township) == {tree.gupei.id, tree.village_a.id, tree.village_b.id}
    assert ids(tree.gupei_admin) == {tree.gupei.id}
    assert ids(tree.menzhuang_teacher) == {tree.menzhuang.id}
    assert ids(tree.nobody) == set()


def test_guardian_permissions_follow_roles(tree):
    assert selectors.has_school_perm(tree.gupei_admin, "manage_staff", tree.gupei)
    assert not selectors.has_school_perm(tree.gupei_admin, "manage_staff", tree.village_a)
    assert selectors.has_school_perm(tree.gupei_township, "manage_staff", tree.village_a)
    # A township admin does not inherit the school admin's identity permission downwards.
    assert not selectors.has_school_perm(tree.gupei_township, "view_child_identity", tree.village_a)
    assert selectors.has_school_perm(tree.bureau_admin, "manage_staff", tree.menzhuang)
    assert not selectors.has_school_perm(tree.bureau_inspector, "manage_staff", tree.menzhuang)
    assert not selectors.has_school_perm(tree.bureau_admin, "view_home", tree.far_school)
    # guardian's own API agrees on a direct grant.
    assert tree.gupei_admin.has_perm("tenancy.manage_staff", tree.gupei)
    assert not tree.menzhuang_admin.has_perm("tenancy.manage_staff", tree.gupei)
