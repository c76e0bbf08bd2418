from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubmissionsConfig(AppConfig):
    name = "submissions"
    verbose_name = _("Submissions")

    def ready(self):
        from jobs import beat as registry
        from tenancy import navigation

        from . import beat, nav

        registry.register("submissions", beat.periodic_tasks)
        navigation.register(nav.items)
