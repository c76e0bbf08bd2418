"""Notices for events of the layers below, which cannot call notices themselves (tenancy's
role_changed signal)."""
from __future__ import annotations

from django.utils.translation import gettext as _

from tenancy.roles import Role
from tenancy.scoping import system_scope
from tenancy.signals import role_changed

from .models import Kind


def connect() -> None:
    role_changed.connect(_role_changed, dispatch_uid="notices.role_changed")


def _role_changed(sender, *, membership, granted: bool, actor=None, **kwargs) -> None:
    from .services import notify

    if actor is None:  # seeding and system setup: nobody to tell of a change a person made
        return

    place = membership.school.name if membership.school_id else membership.district.name
    district_id = membership.district_id or membership.school.district_id
    params = {"role": Role(membership.role).label, "place": place}
    if granted:
        kind, text = Kind.ROLE_GRANTED, _("You were given the role %(role)s at %(place)s.") % params
    else:
        kind, text = Kind.ROLE_REVOKED, _("Your role %(role)s at %(place)s was removed.") % params
    # The notice belongs to the role's district, which a school admin's own scope does not include.
    with system_scope("a role change tells the person, in the role's district", district_ids=[district_id]):
        notify(event_key=f"membership:{membership.pk}:{'granted' if granted else 'revoked'}", kind=kind,
               district_id=district_id, school_id=membership.school_id, users=[membership.user], text=text, link="/")
