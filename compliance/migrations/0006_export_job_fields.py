# The export row takes the shared job fields (jobs.models.Job): a progress note.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0005_date_range"),
    ]

    operations = [
        migrations.AddField(
            model_name="complianceexport",
            name="note",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AlterField(
            model_name="complianceexport",
            name="status",
            field=models.CharField(choices=[("queued", "queued"), ("running", "running"), ("done", "done"),
                                            ("failed", "failed")], default="queued", max_length=16,
                                   verbose_name="status"),
        ),
    ]
