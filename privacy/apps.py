from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyConfig(AppConfig):
    name = "privacy"
    verbose_name = _("Children's data")

    def ready(self):
        from tenancy import navigation

        from . import access_log, nav

        access_log.register()
        navigation.register(nav.items)
