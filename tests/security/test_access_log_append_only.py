"""The access log is append-only: the app's own database connection can neither UPDATE nor DELETE it."""
from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from tenancy import services
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope


@pytest.fixture
def entry(tree):
    with tenant_scope([tree.gupei.id]):
        return services.access_log_record(user=tree.gupei_admin, school_id=tree.gupei.id, action="view",
                                          object_type="schools.child", object_id="42")


def _refused(sql, params, school_id):
    """Run one statement through the app's connection, inside the row's scope; return the error."""
    with tenant_scope([school_id]):
        with pytest.raises(DatabaseError) as caught, transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
    return str(caught.value)


def test_the_app_role_is_not_a_superuser(db):
    # Otherwise the privilege checks below would prove nothing.
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone()[0] is False


@pytest.mark.parametrize("sql", [
    "UPDATE tenancy_accesslog SET at = now() - interval '1 year' WHERE id = %s",
    "DELETE FROM tenancy_accesslog WHERE id = %s",
])
def test_update_and_delete_are_refused(entry, sql):
    message = _refused(sql, [entry.pk], entry.school_id)
    assert "permission denied" in message or "append-only" in message
    with tenant_scope([entry.school_id]):
        kept = AccessLog.objects.get(pk=entry.pk)
    assert kept.at == entry.at and kept.object_id == "42"


@pytest.mark.parametrize("sql", [
    "UPDATE tenancy_accesslog SET object_id = 'x' WHERE id = %s",
    "DELETE FROM tenancy_accesslog WHERE id = %s",
])
def test_the_trigger_refuses_even_when_the_privilege_is_granted_back(entry, sql):
    """Should the table's owner (the migrating role, config/db_roles.py) GRANT the app's role the
    privileges back, the trigger still refuses. The owner grants on a connection of its own and
    revokes again at the end."""
    import psycopg

    from tests.support.db import owner_database_url

    grant = "{} UPDATE, DELETE ON tenancy_accesslog {} " + connection.ops.quote_name(connection.settings_dict["USER"])
    with psycopg.connect(owner_database_url(connection.settings_dict), autocommit=True) as owner:
        owner.execute(grant.format("GRANT", "TO"))
        try:
            message = _refused(sql, [entry.pk], entry.school_id)
        finally:
            owner.execute(grant.format("REVOKE", "FROM"))
    assert "tenancy_accesslog is append-only" in message
    with tenant_scope([entry.school_id]):
        assert AccessLog.objects.get(pk=entry.pk).object_id == "42"


def test_the_orm_cannot_rewrite_or_delete_either(entry):
    with tenant_scope([entry.school_id]):
        with pytest.raises(DatabaseError), transaction.atomic():
            AccessLog.objects.filter(pk=entry.pk).update(action="delete")
        with pytest.raises(DatabaseError), transaction.atomic():
            AccessLog.objects.filter(pk=entry.pk).delete()
        assert AccessLog.objects.filter(pk=entry.pk, action="view").exists()


def test_inserting_still_works(entry):
    with tenant_scope([entry.school_id]):
        services.access_log_record(user=None, school_id=entry.school_id, action="view", object_type="x")
        assert AccessLog.objects.filter(school_id=entry.school_id, object_type="x").count() == 1
