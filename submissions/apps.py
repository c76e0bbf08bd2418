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
        # Abandoned compiles and district exports are failed by the stale-job sweeper (tenancy/jobs.py).
        from tenancy.jobs import register_sweeper

        from . import services

        register_sweeper("submissions.compile", services.package_versions_fail_stale)
        register_sweeper("submissions.district_export", services.district_exports_fail_stale)
