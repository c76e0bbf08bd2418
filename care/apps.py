from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "care"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from jobs import beat as registry
        from tenancy import access_log_text, navigation

        from . import access_log_text as describers
        from . import beat, nav, receivers

        registry.register("care", beat.periodic_tasks)
        navigation.register(nav.items)
        access_log_text.register("care.case", describers.cases)
        access_log_text.register("care.referral", describers.referrals)
        access_log_text.register("care.caseaction", describers.actions)
        # A read of a school's risk list is logged on the school with this object type.
        access_log_text.register_kind(describers.RISK_LIST, _("risk list"))
        receivers.connect()
