from django.apps import AppConfig


class OfflineConfig(AppConfig):
    name = "offline"
    verbose_name = "Offline app"

    def ready(self):
        from tenancy import navigation

        from . import nav

        navigation.register(nav.items)
