"""The four kinds of care contact with a child."""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tenancy.models import AccessLog

from .. import selectors
from ..models import CareContact, Child, Evidence
from ._common import _contact_write_check, _log, _not_in_future, _save, _semester_required, _set_fields
from .children import child_read_log
from .evidence import evidence_delete, evidence_upload

# ---------------------------------------------------------------- the four contacts
CONCERN_REASON_MAX = 200


def concern_values(concern: bool, reason: str) -> tuple[bool, str]:
    """The teacher's 关注 flag and its reason, checked: a flag needs a reason; no flag keeps none."""
    reason = (reason or "").strip()
    if not concern:
        return False, ""
    if not reason:
        raise ValidationError({"concern_reason": _("The child is flagged as needing attention: give the reason "
                                                   "for attention.")})
    if len(reason) > CONCERN_REASON_MAX:
        raise ValidationError({"concern_reason": _("The reason for attention is too long: at most %(max)d "
                                                   "characters.") % {"max": CONCERN_REASON_MAX}})
    return True, reason


@transaction.atomic
def care_contact_record(*, actor, child_id: int, kind: str, happened_on: dt.date, notes: str = "",
                        evidence_files=(), request=None, today: dt.date | None = None,
                        made_by=None, concern: bool = False, concern_reason: str = "") -> CareContact:
    """Record one of the four contacts. The actor must be allowed to record contacts for this
    child (school admin, or the child's current proxy parent); otherwise Child.DoesNotExist."""
    child = selectors.child_for_contact(actor, child_id) if actor is not None else Child.objects.get(pk=child_id)
    if kind not in CareContact.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of contact.")})
    if child.status != Child.Status.ACTIVE:
        raise ValidationError(_("Contacts are recorded only for children on the active list."))
    _not_in_future(happened_on, "happened_on", today)
    concern, concern_reason = concern_values(concern, concern_reason)
    school = child.school
    semester = _semester_required(school, happened_on, "happened_on")
    contact = CareContact(school=school, child=child, kind=kind, happened_on=happened_on, semester=semester,
                          made_by=actor or made_by, notes=notes, concern=concern, concern_reason=concern_reason)
    _save(contact, actor=actor, action=AccessLog.Action.CREATE, request=request)
    for f in evidence_files:
        evidence_upload(actor=actor, school=school, uploaded_file=f, attach_to=contact, request=request)
    return contact


CONTACT_FIELDS = ("kind", "happened_on", "notes", "concern", "concern_reason")
CONTACT_NOTES_MAX = 2000


class ContactVersionConflict(Exception):
    """An edit started from a version of the contact that is no longer the stored one (it was
    changed elsewhere meanwhile): nothing was written; `current` is the stored contact."""

    def __init__(self, current: CareContact):
        super().__init__(_("This contact was changed elsewhere since you started editing it."))
        self.current = current


@transaction.atomic
def care_contact_update(*, actor, contact: CareContact, request=None, today: dt.date | None = None,
                        expected_version: int | None = None, **fields) -> CareContact:
    """Correct a contact's kind, date or notes, under the same rules as recording it: the date not
    in the future and inside a semester (the contact moves to that semester). Every change bumps
    the version; an edit naming the version it started from (`expected_version`) is refused with
    ContactVersionConflict when the contact changed meanwhile, never applied over the newer one."""
    _contact_write_check(actor, contact)
    # The row lock makes the version check and the bump one step against a concurrent edit.
    stored = CareContact.objects.select_for_update().get(pk=contact.pk)
    contact.version = stored.version
    if expected_version is not None and expected_version != stored.version:
        raise ContactVersionConflict(stored)
    if contact.child.is_purged:
        raise ValidationError(_("The child's record was purged: its contacts can no longer be changed."))
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(names)s") % {"names": ", ".join(sorted(unknown))})
    # Validate the new values before touching the instance: a refused edit leaves it as it was.
    new = {name: fields.get(name, getattr(contact, name)) for name in CONTACT_FIELDS}
    if new["kind"] not in CareContact.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of contact.")})
    if len(new["notes"] or "") > CONTACT_NOTES_MAX:
        raise ValidationError({"notes": _("The notes are too long: at most %(max)d characters.")
                               % {"max": CONTACT_NOTES_MAX}})
    _not_in_future(new["happened_on"], "happened_on", today)
    if "concern" in fields or "concern_reason" in fields:
        fields["concern"], fields["concern_reason"] = concern_values(new["concern"], new["concern_reason"])
    semester = _semester_required(contact.school, new["happened_on"], "happened_on")
    changed = _set_fields(contact, fields, CONTACT_FIELDS)
    if semester.pk != contact.semester_id:
        contact.semester = semester
        changed.append("semester")
    if not changed:
        return contact
    contact.version = stored.version + 1
    # Field names only: the notes are about a child and stay out of the log.
    return _save(contact, actor=actor, action=AccessLog.Action.UPDATE, request=request,
                 detail={"fields": sorted(changed)})


@transaction.atomic
def care_contact_delete(*, actor, contact: CareContact, request=None) -> None:
    """Undo a contact: its author, or anyone who manages the archive. Its photos go with it
    (rows and files, through evidence_delete)."""
    _contact_write_check(actor, contact)
    for item in Evidence.objects.filter(care_contact=contact).select_related("care_contact", "school"):
        evidence_delete(actor=actor, evidence=item, request=request)
    _log(actor, contact, AccessLog.Action.DELETE, request=request)
    contact.delete()


def contact_read_log(*, user, contact: CareContact, request=None) -> None:
    """A contact's page names its child: log it like a child detail (action view on the child)."""
    child_read_log(user=user, child=contact.child, request=request, via="contact", contact=contact.pk)
