"""Header links of the submissions pages (tenancy.views.nav_context collects them)."""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from tenancy.selectors import has_school_perm, memberships_of

from . import selectors


def items(request) -> list[tuple[str, str]]:
    user = request.user
    out: list[tuple[str, str]] = []
    school = next((m.school for m in memberships_of(user) if m.school_id), None)
    if school is not None and has_school_perm(user, "view_home", school):
        out.append((_("Reports"), reverse("school_submissions", kwargs={"pk": school.pk})))
    if selectors.oversight_districts(user=user):
        out.append((_("Reporting"), reverse("reporting_matrix")))
        out.append((_("Copied narratives"), reverse("similarity_list")))
    unread = selectors.notifications_unread_count(user=user)
    label = _("Notifications (%(n)d)") % {"n": unread} if unread else _("Notifications")
    out.append((label, reverse("notifications")))
    return out
