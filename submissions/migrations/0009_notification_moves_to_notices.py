"""The in-app notification now belongs to notices (notices 0001): state only, no table changes."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("submissions", "0008_decisions"),
        ("notices", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Notification")],
            database_operations=[],
        ),
    ]
