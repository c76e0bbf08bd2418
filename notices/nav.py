"""The 通知 tab with its unread badge (registered with tenancy.navigation in apps.py), and the
`notices_unread` template variable."""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from tenancy.navigation import NavItem

from . import selectors


def unread(request) -> int:
    # Once per request: the nav item and the context variable share the COUNT.
    if not hasattr(request, "_notices_unread"):
        request._notices_unread = selectors.notifications_unread_count(user=request.user)
    return request._notices_unread


def items(request) -> list[NavItem]:
    """The 通知 tab, with the unread count as its badge."""
    return [NavItem("notifications", _("Notifications"), reverse("notifications"), badge=unread(request))]


def context(request) -> dict:
    """Template context processor (settings.TEMPLATES)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notices_unread": unread(request)}
