"""Helpers every write of the school's home shares: permission check, access log, field setting."""
from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from tenancy.models import Membership, School
from tenancy.roles import Role
from tenancy.selectors import has_school_perm
from tenancy.services import access_log_record

from .. import selectors
from ..models import CareContact, Semester

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------- helpers
def _today() -> dt.date:
    return timezone.localdate()


def _require(actor, codename: str, school: School) -> None:
    if actor is None:
        return
    if not has_school_perm(actor, codename, school):
        raise PermissionDenied(_("You do not have permission to do this in this school."))


def _log(actor, obj, action: str, *, request=None, detail: dict | None = None) -> None:
    access_log_record(user=actor, school_id=obj.school_id, action=action, obj=obj, request=request, detail=detail)


def _save(obj, *, actor, action: str, request=None, detail=None, exclude=None):
    obj.full_clean(exclude=exclude)
    obj.save()
    _log(actor, obj, action, request=request, detail=detail)
    return obj


def _set_fields(obj, fields: dict, allowed: tuple[str, ...]) -> list[str]:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError(_("Unknown fields: %(names)s") % {"names": ", ".join(sorted(unknown))})
    changed = []
    for key, value in fields.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed.append(key)
    return changed


def _semester_required(school: School, day: dt.date, field: str = "date") -> Semester:
    semester = selectors.semester_for_date(school.district_id, day)
    if semester is None:
        known = "; ".join(
            f"{s.name} ({s.start:%Y-%m-%d} – {s.end:%Y-%m-%d})"
            for s in Semester.objects.filter(district_id=school.district_id).order_by("start")
        ) or _("none defined yet")
        raise ValidationError({field: _(
            "%(day)s is not inside any semester of the district. Semesters: %(known)s"
        ) % {"day": day.isoformat(), "known": known}})
    return semester


def _not_in_future(day: dt.date, field: str, today: dt.date | None = None) -> None:
    if day > (today or _today()):
        raise ValidationError({field: _("The date cannot be in the future.")})


def _same_school(obj, school: School, field: str) -> None:
    if obj is not None and obj.school_id != school.id:
        raise ValidationError({field: _("This record belongs to another school.")})


def _is_staff_of(user, school: School) -> bool:
    return Membership.objects.filter(
        user=user, school=school, role__in=[Role.SCHOOL_ADMIN, Role.TEACHER, Role.CLERK]
    ).exists()


def _contact_write_check(actor, contact: CareContact) -> None:
    """Who may change or undo a contact: its author, or whoever manages the archive; either must
    still be allowed to record for the child (Child.DoesNotExist otherwise: the caller answers 404)."""
    if actor is None:
        return
    if contact.made_by_id != actor.id:
        _require(actor, "manage_children", contact.school)
    selectors.child_for_contact(actor, contact.child_id)
