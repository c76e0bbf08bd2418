"""Header link of notices with the unread badge (tenancy.views.nav_context collects it), and the
`notices_unread` template variable for a header that draws its own badge."""
from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import selectors


def unread(request) -> int:
    # Once per request: the nav item and the context variable share the COUNT.
    if not hasattr(request, "_notices_unread"):
        request._notices_unread = selectors.notifications_unread_count(user=request.user)
    return request._notices_unread


def items(request) -> list[tuple[str, str]]:
    n = unread(request)
    label = _("Notifications")
    if n:
        # A safe string: the header renders the badge as markup, whichever template draws it.
        label = format_html('{} <span class="badge nav-badge" aria-label="{}">{}</span>', label,
                            ngettext("%(n)d unread", "%(n)d unread", n) % {"n": n}, n)
    return [(label, reverse("notifications"))]


def context(request) -> dict:
    """Template context processor (settings.TEMPLATES)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"notices_unread": unread(request)}
