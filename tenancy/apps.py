from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = _("Tenancy")

    def ready(self):
        from . import (  # noqa: F401  (register system checks and the RLS post_migrate hook)
            checks,
            rls,
            tokens,  # noqa: F401  (revokes API tokens when a password changes or an account closes)
            two_factor,  # noqa: F401  (its user_logged_in receiver)
        )
