"""The access log is append-only in the database, not only by convention.

The owner role that runs the migrations owns tenancy_accesslog, and an owner holds every privilege
by default: a GRANT-based rule alone is not enough. Two layers:

1. REVOKE UPDATE, DELETE from the owner itself (PostgreSQL lets an owner drop its own ordinary
   privileges) and from PUBLIC. The app's runtime role is granted only what the owner keeps
   (config/db_roles.py), so the app's statements fail with "permission denied".
2. A statement-level trigger that raises on UPDATE and DELETE, whoever runs them (a role that was
   granted the privileges back, or a superuser's maintenance session).

Undoing either (GRANT, DROP TRIGGER) takes the owner's or a superuser's credentials, which the app
never holds. TRUNCATE is left to the owner: the test suite's flush empties every table with it
(as the owner), and no app code path truncates.

Consequences: a row's timestamp cannot be rewritten (tests insert rows with the time they need), a
user with log entries cannot be deleted (their entries would be updated to user = NULL; deactivate
the account instead), and there is no retention purge. One would need an explicit privileged
maintenance path (superuser session, trigger disabled for that transaction, itself recorded).
"""
from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION tenancy_accesslog_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'tenancy_accesslog is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
DROP TRIGGER IF EXISTS tenancy_accesslog_append_only ON tenancy_accesslog;
CREATE TRIGGER tenancy_accesslog_append_only
    BEFORE UPDATE OR DELETE ON tenancy_accesslog
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy_accesslog_append_only();
REVOKE UPDATE, DELETE ON tenancy_accesslog FROM PUBLIC;
REVOKE UPDATE, DELETE ON tenancy_accesslog FROM CURRENT_USER;
"""

BACKWARD = """
GRANT UPDATE, DELETE ON tenancy_accesslog TO CURRENT_USER;
DROP TRIGGER IF EXISTS tenancy_accesslog_append_only ON tenancy_accesslog;
DROP FUNCTION IF EXISTS tenancy_accesslog_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0002_taskoutbox")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
