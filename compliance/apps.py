from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = _("Compliance")

    def ready(self):
        from jobs import beat as registry
        from tenancy import navigation

        from . import beat, metrics, nav
        from .metrics import defaults, gaps  # noqa: F401  (register the default metrics and their gaps)

        metrics.load_extra_metric_modules()
        registry.register("compliance", beat.periodic_tasks)
        navigation.register(nav.items)
