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
        # Kinds of record the access log names (these models have no verbose name of their own).
        from tenancy import access_log_text

        access_log_text.register_kind("submissions.narrative", _("report narrative"))
        access_log_text.register_kind("submissions.packageversion", _("compiled package"))
        access_log_text.register_kind("submissions.similarityflag", _("copied-narrative flag"))
