from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_beat(sender, **kwargs):
    from .beat import ensure_periodic_tasks

    ensure_periodic_tasks()


class SubmissionsConfig(AppConfig):
    name = "submissions"
    verbose_name = _("Submissions")

    def ready(self):
        # After migrate (all apps' tables exist by then), register the beat schedule idempotently.
        post_migrate.connect(_ensure_beat, sender=self, dispatch_uid="submissions.ensure_beat")
