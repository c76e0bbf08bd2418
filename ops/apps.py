from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Operations: backup and restore, the health check, the database roles, `make run` and the demo
    loader. The top layer: it may import every app, and no app imports it."""

    name = "ops"
    verbose_name = _("Operations")
