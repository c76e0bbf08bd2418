from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_beat(sender, **kwargs):
    from .beat import sync_periodic_tasks

    sync_periodic_tasks()


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = _("Background jobs")

    def ready(self):
        from . import beat

        beat.register("jobs", beat.jobs_periodic_tasks)
        # Once per migrate (and flush), after every app's tables exist.
        post_migrate.connect(_sync_beat, sender=self, dispatch_uid="jobs.sync_beat")
