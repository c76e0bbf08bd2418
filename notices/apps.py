from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = _("Notices")

    def ready(self):
        from jobs import beat as registry
        from tenancy import navigation

        from . import beat, nav, receivers

        registry.register("notices", beat.periodic_tasks)
        navigation.register(nav.items)
        receivers.connect()
