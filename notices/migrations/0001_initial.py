"""The in-app notification moves from submissions to notices: state only, the table and its rows
stay where they are (0002 renames the table and adds what notices need)."""
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("submissions", "0007_job_status"),
        ("tenancy", "0007_apitoken"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("text", models.CharField(max_length=300, verbose_name="text")),
                        ("link", models.CharField(blank=True, max_length=300, verbose_name="link")),
                        ("is_read", models.BooleanField(default=False, verbose_name="read")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("read_at", models.DateTimeField(blank=True, null=True)),
                        ("district", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                       related_name="notifications", to="tenancy.district",
                                                       verbose_name="district")),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                   related_name="notifications", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "verbose_name": "notification",
                        "verbose_name_plural": "notifications",
                        "ordering": ["-created_at", "-id"],
                        "db_table": "submissions_notification",
                        "indexes": [models.Index(fields=["user", "is_read", "-created_at"],
                                                 name="notification_inbox")],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
