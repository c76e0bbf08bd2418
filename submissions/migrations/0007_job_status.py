# Package versions and district exports take the shared job fields (jobs.models.Job): `state`
# becomes `status` with the job vocabulary (a waiting job is "queued"), `progress_note` becomes
# `note`. Renames keep the data; the waiting rows are rewritten in both directions, with every
# school and district visible to the row-level security policies (transaction-local settings).
import django.core.validators
from django.db import migrations, models

TABLES = ("submissions_packageversion", "submissions_districtexport")
SEE_ALL = """
SELECT set_config('app.school_ids', coalesce((SELECT string_agg(id::text, ',') FROM tenancy_school), ''), true),
       set_config('app.district_ids', coalesce((SELECT string_agg(id::text, ',') FROM tenancy_district), ''), true)
"""


def _rewriter(old: str, new: str):
    def rewrite(apps, schema_editor):
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(SEE_ALL)
            for table in TABLES:
                cursor.execute(f"UPDATE {table} SET status = %s WHERE status = %s", [new, old])
            # No pending trigger events for the ALTER TABLEs that follow.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute("SELECT set_config('app.school_ids', '', true), set_config('app.district_ids', '', true)")
    return rewrite


class Migration(migrations.Migration):
    dependencies = [
        ("submissions", "0006_notification_district"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="packageversion", name="packageversion_current_is_done"),
        migrations.RenameField(model_name="packageversion", old_name="state", new_name="status"),
        migrations.RenameField(model_name="packageversion", old_name="progress_note", new_name="note"),
        migrations.RenameField(model_name="districtexport", old_name="state", new_name="status"),
        migrations.AlterField(
            model_name="packageversion",
            name="status",
            field=models.CharField(choices=[("queued", "Waiting"), ("running", "Compiling"), ("done", "Ready"),
                                            ("failed", "Failed")], default="queued", max_length=16,
                                   verbose_name="status"),
        ),
        migrations.AlterField(
            model_name="districtexport",
            name="status",
            field=models.CharField(choices=[("queued", "Waiting"), ("running", "Running"), ("done", "Ready"),
                                            ("failed", "Failed")], default="queued", max_length=16,
                                   verbose_name="status"),
        ),
        migrations.RunPython(_rewriter("pending", "queued"), _rewriter("queued", "pending")),
        migrations.AddField(
            model_name="districtexport",
            name="note",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AlterField(
            model_name="districtexport",
            name="progress",
            field=models.PositiveSmallIntegerField(default=0, validators=[django.core.validators.MaxValueValidator(100)]),
        ),
        migrations.AlterField(
            model_name="packageversion",
            name="progress",
            field=models.PositiveSmallIntegerField(default=0, validators=[django.core.validators.MaxValueValidator(100)]),
        ),
        migrations.AddConstraint(
            model_name="packageversion",
            constraint=models.CheckConstraint(condition=models.Q(("is_current", False), ("status", "done"),
                                                                 _connector="OR"),
                                              name="packageversion_current_is_done"),
        ),
    ]
