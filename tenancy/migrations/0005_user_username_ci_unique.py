import django.db.models.functions.text
from django.db import migrations, models


def refuse_existing_clashes(apps, schema_editor):
    """Name the accounts that differ only in case, instead of failing on an anonymous IntegrityError:
    an administrator must rename one of each pair before this migration can run."""
    User = apps.get_model("tenancy", "User")
    seen: dict[str, str] = {}
    clashes = []
    for username in User.objects.order_by("id").values_list("username", flat=True):
        key = username.lower()
        if key in seen:
            clashes.append(f"{seen[key]} / {username}")
        seen.setdefault(key, username)
    if clashes:
        raise RuntimeError("Usernames that differ only in case must be renamed first: " + ", ".join(clashes))


class Migration(migrations.Migration):

    dependencies = [
        ('auth', '0012_alter_user_first_name_max_length'),
        ('tenancy', '0004_accesslog_verify_action'),
    ]

    operations = [
        migrations.RunPython(refuse_existing_clashes, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='user',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('username'), name='user_username_ci_unique', violation_error_message='This username is already taken.'),
        ),
    ]
