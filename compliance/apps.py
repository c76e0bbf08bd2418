from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("Compliance")

    def ready(self):
        from . import metrics

        metrics.load_extra_metric_modules()
        # Registered here (not in a data migration) so the beat entry survives a flushed table and
        # follows the settings; update_or_create keeps it idempotent.
        post_migrate.connect(_register_beat, sender=self, dispatch_uid="compliance_register_beat")


def _register_beat(sender, using="default", **kwargs):
    from .services import nightly_snapshot_schedule_register

    nightly_snapshot_schedule_register()
