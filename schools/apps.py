from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _after_migrate(sender, **kwargs):
    from .tasks import ensure_periodic_tasks

    ensure_periodic_tasks()


class SchoolsConfig(AppConfig):
    name = "schools"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Once per migrate run (sender filter): beat's tables exist by then.
        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="schools.ensure_periodic_tasks")
