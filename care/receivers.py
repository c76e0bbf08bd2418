"""Cases opened by events of the schools app: a register change to 无人监护 and a contact flagged
关注. Connected from CareConfig.ready; schools never imports care."""
from __future__ import annotations

import importlib
import logging

from django.db.models.signals import post_save

from schools.models import CareContact, Child
from tenancy.scoping import system_scope

from . import services
from .models import Case

log = logging.getLogger(__name__)


def on_register_changed(sender=None, *, child_id, school_id, actor=None, changed=(), **kwargs):
    """Sent after the commit of a child's create, update or import: a child no one cares for
    (无人监护) gets a case at once, without waiting for the nightly job."""
    if "guardianship_assessment" not in set(changed or ()):
        return
    # After the commit the request's scope may be gone: name the one school this touches.
    with system_scope("a register change opens a follow-up case", school_ids=[school_id]):
        child = Child.objects.select_related("school").filter(pk=child_id, school_id=school_id).first()
        if child is not None and child.guardianship_assessment == Child.Assessment.NONE:
            services.case_open_auto(child=child, reason=Case.Reason.UNATTENDED, opened_by=actor)


def on_contact_saved(sender, instance: CareContact, created=False, raw=False, **kwargs):
    """A contact flagged 关注 opens a case in the contact's own transaction (both or neither)."""
    if raw or not instance.concern:
        return
    child = Child.objects.select_related("school").get(pk=instance.child_id)
    services.case_open_auto(child=child, reason=Case.Reason.CONCERN, note=instance.concern_reason,
                            opened_by=instance.made_by)


def connect() -> None:
    post_save.connect(on_contact_saved, sender=CareContact, dispatch_uid="care.contact_concern")
    try:
        signals = importlib.import_module("schools.signals")
    except ImportError:  # the register signal ships with the register's forms
        log.debug("schools.signals is missing: cases for 无人监护 wait for the nightly job")
        return
    signal = getattr(signals, "child_register_changed", None)
    if signal is not None:
        signal.connect(on_register_changed, dispatch_uid="care.register_changed")
