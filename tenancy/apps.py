from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_beat(sender, **kwargs):
    from .jobs import ensure_periodic_tasks

    ensure_periodic_tasks()


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = _("Tenancy")

    def ready(self):
        from . import checks, rls  # noqa: F401  (register system checks and the RLS post_migrate hook)

        # The outbox flush and the stale-job sweeper (tenancy/jobs.py), registered after migrate.
        post_migrate.connect(_ensure_beat, sender=self, dispatch_uid="tenancy.ensure_beat")
        from . import two_factor  # noqa: F401  (its user_logged_in receiver)
        from . import tokens  # noqa: F401  (revokes API tokens when a password changes or an account closes)
