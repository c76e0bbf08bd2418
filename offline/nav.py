"""The offline app's link on 更多: the records kept on this phone (waiting, refused, in conflict)."""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from tenancy.navigation import NavItem
from tenancy.roles import ROLE_PERMISSIONS
from tenancy.selectors import memberships_of

# What a phone records without a signal: contacts (proxy parents) and activities (materials).
_OFFLINE_WORK = {"record_contacts", "manage_materials"}


def items(request) -> list[NavItem]:
    """For whoever holds a school role that records from a phone (teacher, clerk, school admin)."""
    if any(m.school_id and ROLE_PERMISSIONS.get(m.role, set()) & _OFFLINE_WORK for m in memberships_of(request.user)):
        return [NavItem("offline_records", _("Records on this phone"), reverse("offline_tracker") + "#outbox")]
    return []
