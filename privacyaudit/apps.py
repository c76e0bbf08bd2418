from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrivacyAuditConfig(AppConfig):
    name = "privacyaudit"
    verbose_name = _("Minors' data audit")

    def ready(self):
        from jobs import beat as registry
        from tenancy import access_log_text, navigation

        from . import beat, nav

        registry.register("privacyaudit", beat.periodic_tasks)
        navigation.register(nav.items)
        access_log_text.register_kind("privacyaudit.auditpack", _("audit pack"))
        access_log_text.register_kind("privacyaudit.breach", _("data breach"))
        access_log_text.register_kind("privacyaudit.breachnotice", _("breach notice"))
