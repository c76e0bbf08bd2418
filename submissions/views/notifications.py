"""The user's notifications."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .. import selectors, services
from ..forms import MarkReadForm

NOTIFICATIONS_PAGE_SIZE = 50


@login_required
@require_GET
def notifications(request):
    qs = selectors.notifications_for(user=request.user)
    page = Paginator(qs, NOTIFICATIONS_PAGE_SIZE).get_page(request.GET.get("page"))
    for n in page:
        # Only same-site paths become links (a stored link is data, not trusted markup).
        n.safe_link = n.link if n.link and n.link.startswith("/") and url_has_allowed_host_and_scheme(
            n.link, allowed_hosts={request.get_host()}) else ""
    return render(request, "submissions/notifications.html", {
        "page": page, "unread": selectors.notifications_unread_count(user=request.user),
    })


@login_required
@require_POST
def notifications_mark_read(request):
    own_unread = list(selectors.notifications_for(user=request.user, unread_only=True).values_list("id", flat=True))
    form = MarkReadForm(request.POST, choices=own_unread)
    if form.is_valid():
        ids = own_unread if form.cleaned_data["all"] else form.cleaned_data["ids"]
        n = services.notification_mark_read(user=request.user, notification_ids=ids)
        if n:
            messages.success(request, _("Marked as read."))
    return redirect("notifications")
