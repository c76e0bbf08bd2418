"""Notifications become district-owned: a NOT NULL district, under the district row-level policy.

Existing rows get the district of the submission their link points at (every notification so
far is a reminder linking /submissions/<id>/), else the district of the user's first role. A row
with neither cannot be placed in any tenant; the migration stops and names how many rather
than guess or drop them.

Runs in the migration's transaction with every school and district visible to the row-level
security policies (the settings are transaction-local and reset at the end).
"""
import django.db.models.deletion
from django.db import migrations, models

SEE_ALL = """
SELECT set_config('app.school_ids', coalesce((SELECT string_agg(id::text, ',') FROM tenancy_school), ''), true),
       set_config('app.district_ids', coalesce((SELECT string_agg(id::text, ',') FROM tenancy_district), ''), true)
"""

FROM_SUBMISSION = r"""
UPDATE submissions_notification AS n SET district_id = rt.district_id
FROM submissions_submission AS s JOIN submissions_reporttype AS rt ON rt.id = s.report_type_id
WHERE n.district_id IS NULL AND n.link ~ '^/submissions/[0-9]{1,18}/$'
  AND s.id = substring(n.link FROM '^/submissions/([0-9]+)/$')::bigint
"""

FROM_MEMBERSHIP = """
UPDATE submissions_notification AS n SET district_id = (
    SELECT coalesce(m.district_id, sc.district_id)
    FROM tenancy_membership AS m LEFT JOIN tenancy_school AS sc ON sc.id = m.school_id
    WHERE m.user_id = n.user_id
    ORDER BY m.district_id IS NULL, m.id LIMIT 1)
WHERE n.district_id IS NULL
"""


def backfill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(SEE_ALL)
        cursor.execute(FROM_SUBMISSION)
        cursor.execute(FROM_MEMBERSHIP)
        cursor.execute("SELECT count(*) FROM submissions_notification WHERE district_id IS NULL")
        left = cursor.fetchone()[0]
        if left:
            raise RuntimeError(
                f"{left} notification(s) name no submission and belong to a user without any role, so no district "
                "owns them. Assign them (UPDATE submissions_notification SET district_id = …) or delete them, "
                "then migrate again.")
        # Fire the deferred FK checks of the UPDATEs now: ALTER TABLE refuses a table with pending
        # trigger events, and the next operation sets the column NOT NULL.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SELECT set_config('app.school_ids', '', true), set_config('app.district_ids', '', true)")


class Migration(migrations.Migration):

    dependencies = [
        ("submissions", "0005_date_range"),
        ("tenancy", "0004_accesslog_verify_action"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="district",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="notifications", to="tenancy.district", verbose_name="district"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="notification",
            name="district",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="notifications",
                                    to="tenancy.district", verbose_name="district"),
        ),
    ]
