from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    name = "schools"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from jobs import beat as registry
        from tenancy import navigation

        from . import beat, nav

        registry.register("schools", beat.periodic_tasks)
        navigation.register(nav.items)
        from tenancy import access_log_text

        from . import access_log_text as describers

        access_log_text.register("schools.child", describers.children)
