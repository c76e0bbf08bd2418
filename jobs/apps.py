from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_beat(sender, **kwargs):
    from .beat import ensure_periodic_tasks

    ensure_periodic_tasks()


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = _("Background jobs")

    def ready(self):
        post_migrate.connect(_ensure_beat, sender=self, dispatch_uid="jobs.ensure_beat")
