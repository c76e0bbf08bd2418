"""Every write of the minors'-data paperwork, each in one transaction with its access-log row.

The child's own consent fields and the purge of a child's data stay the schools app's rules
(schools.services.child_consent_give / child_consent_refuse / child_purge): these services record
the paperwork and call them, so a refusal and a deletion clear exactly what the archive clears."""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from schools import services as school_services
from schools.models import Child
from schools.phones import NotAPhone, normalise_phone
from tenancy.models import AccessLog, Membership, School
from tenancy.selectors import has_school_perm
from tenancy.services import access_log_record

from . import selectors
from .models import ConsentRecord, DataOfficer, GuardianRequest, guardian_request_due

PERMISSION = "manage_children"


def _require(actor, school: School) -> None:
    if actor is not None and not has_school_perm(actor, PERMISSION, school):
        raise PermissionDenied(_("You do not have permission to do this in this school."))


def _log(actor, obj, action: str, *, request=None, detail: dict | None = None) -> None:
    access_log_record(user=actor, school_id=obj.school_id, action=action, obj=obj, request=request, detail=detail)


def _not_future(day: dt.date | None, name: str) -> None:
    if day is not None and day > selectors.today():
        raise ValidationError({name: _("The date cannot be in the future.")})


def _text(value: str | None) -> str:
    return (value or "").strip()


def refusal_limits_text() -> str:
    """What a refusal limits, in the school's words: the fields the archive no longer keeps."""
    with translation.override("zh-hans"):
        names = "、".join(str(Child._meta.get_field(n).verbose_name)
                         for n in school_services.REFUSAL_BLOCKED if n != "id_number")
        return _("The archive keeps only the minimum (name, gender, grade, class, left-behind situation, "
                 "guardian's name). No longer stored: ID number, %(fields)s.") % {"fields": names}


# ---------------------------------------------------------------- consent
@transaction.atomic
def consent_record(*, actor, child: Child, decision: str, guardian_name: str, method: str, decided_on: dt.date,
                   guardian_relation: str = "", limits: str = "", request=None) -> ConsentRecord:
    """Record a guardian's decision and keep the child's consent fields in step with it: consent
    given opens the optional fields again; a refusal or withdrawal clears them
    (schools.services.child_consent_refuse)."""
    _require(actor, child.school)
    errors = {}
    if decision not in ConsentRecord.Decision.values:
        errors["decision"] = _("Choose given, refused or withdrawn.")
    if not _text(guardian_name):
        errors["guardian_name"] = _("Name the guardian who decided.")
    if not _text(method):
        errors["method"] = _("Say how the decision was given (e.g. signed paper, in person, phone, WeChat).")
    if decided_on is None:
        errors["decided_on"] = _("Give the date of the decision.")
    if errors:
        raise ValidationError(errors)
    _not_future(decided_on, "decided_on")
    # Two decisions recorded at once must not both pass the "newest last" check.
    child = Child.objects.select_for_update().select_related("school").get(pk=child.pk)
    if child.is_purged:
        raise ValidationError(_("This record was purged and can no longer be edited."))
    latest = selectors.latest_consent(child)
    if latest is not None and decided_on < latest.decided_on:
        raise ValidationError({"decided_on": _("A later decision (%(date)s) is already recorded; record the "
                                               "newest decision last.") % {"date": latest.decided_on}})
    refusing = decision != ConsentRecord.Decision.GIVEN
    if refusing and not _text(limits):
        limits = refusal_limits_text()
    record = ConsentRecord.objects.create(
        school_id=child.school_id, child=child, decision=decision, guardian_name=_text(guardian_name),
        guardian_relation=_text(guardian_relation), method=_text(method), decided_on=decided_on,
        limits=_text(limits) if refusing else "", recorded_by=actor)
    if refusing:
        school_services.child_consent_refuse(actor=actor, child=child, on=decided_on, method=record.method,
                                             request=request)
    else:
        school_services.child_consent_give(actor=actor, child=child, on=decided_on, method=record.method,
                                           request=request)
    _log(actor, record, AccessLog.Action.CREATE, request=request, detail={"decision": decision})
    return record


def child_consent_read_log(*, user, child: Child, request=None) -> None:
    """The consent register of a child names the child and the guardian: logged as a read."""
    school_services.child_read_log(user=user, child=child, request=request, via="consent_register")


# ---------------------------------------------------------------- guardian requests
@transaction.atomic
def guardian_request_create(*, actor, school: School, child: Child | None, kind: str, requester_name: str,
                            received_on: dt.date, requester_relation: str = "", due_on: dt.date | None = None,
                            request=None) -> GuardianRequest:
    _require(actor, school)
    errors = {}
    if child is None or child.school_id != school.pk:
        errors["child"] = _("Choose a child of this school.")
    if kind not in GuardianRequest.Kind.values:
        errors["kind"] = _("Choose see, correct or delete.")
    if not _text(requester_name):
        errors["requester_name"] = _("Name who made the request.")
    if received_on is None:
        errors["received_on"] = _("Give the date the request was received.")
    if errors:
        raise ValidationError(errors)
    assert child is not None  # checked with the other fields above
    _not_future(received_on, "received_on")
    due_on = due_on or guardian_request_due(received_on)
    if due_on < received_on:
        raise ValidationError({"due_on": _("The due date cannot be before the request was received.")})
    if child.is_purged and kind != GuardianRequest.Kind.SEE:
        raise ValidationError({"child": _("This record was purged: nothing is left to correct or delete.")})
    req = GuardianRequest.objects.create(
        school=school, child=child, child_label=child.name, kind=kind, requester_name=_text(requester_name),
        requester_relation=_text(requester_relation), received_on=received_on, due_on=due_on, handled_by=actor)
    _log(actor, req, AccessLog.Action.CREATE, request=request, detail={"kind": kind})
    return req


@transaction.atomic
def guardian_request_close(*, actor, req: GuardianRequest, status: str, outcome: str,
                           closed_on: dt.date | None = None, request=None) -> GuardianRequest:
    """Close a request with its outcome. Closing a deletion request as done deletes the child's
    data by the retention purge's rule (schools.services.child_purge) in the same transaction;
    the request itself stays, with the child's name, as the school's record of what it did."""
    _require(actor, req.school)
    # A second close sent at the same time waits here, then finds the request closed.
    req = GuardianRequest.objects.select_for_update(of=("self",)).select_related("school", "child").get(pk=req.pk)
    if req.status != GuardianRequest.Status.OPEN:
        raise ValidationError(_("This request is already closed."))
    if status not in (GuardianRequest.Status.DONE, GuardianRequest.Status.REFUSED):
        raise ValidationError({"status": _("Close the request as done or refused.")})
    if not _text(outcome):
        raise ValidationError({"outcome": _("Write what was done (or why the request was refused).")})
    closed_on = closed_on or selectors.today()
    _not_future(closed_on, "closed_on")
    if closed_on < req.received_on:
        raise ValidationError({"closed_on": _("The request cannot be closed before it was received.")})
    detail: dict[str, object] = {"status": status}
    if req.kind == GuardianRequest.Kind.DELETE and status == GuardianRequest.Status.DONE and req.child is not None:
        school_services.child_purge(actor=actor, child=req.child, reason="guardian_request", request=request)
        detail["purged_child"] = req.child_id
    req.status, req.outcome, req.closed_on, req.handled_by = status, _text(outcome), closed_on, actor
    req.save(update_fields=["status", "outcome", "closed_on", "handled_by", "updated_at"])
    _log(actor, req, AccessLog.Action.UPDATE, request=request, detail=detail)
    return req


def guardian_request_read_log(*, user, req: GuardianRequest, request=None, **detail) -> None:
    """Log that a request was shown (its page, or the printable copy of the child's data)."""
    _log(user, req, AccessLog.Action.VIEW, request=request, detail=detail)


def child_copy_read_log(*, user, req: GuardianRequest, request=None) -> None:
    """The printable copy shows the child's record: logged on the request and on the child."""
    guardian_request_read_log(user=user, req=req, request=request, via="copy")
    if req.child is not None:
        school_services.child_read_log(user=user, child=req.child, request=request, via="guardian_copy")


# ---------------------------------------------------------------- the data officer
@transaction.atomic
def data_officer_set(*, actor, school: School, appointed_on: dt.date, user=None, name: str = "", phone: str = "",
                     request=None) -> DataOfficer:
    """Name the school's person responsible for children's data (one per school: replaces the
    previous one). A staff member of the school, or a name for someone without an account."""
    _require(actor, school)
    errors = {}
    if user is not None and not Membership.objects.filter(school=school, user=user).exists():
        errors["user"] = _("Choose a staff member of this school.")
    if user is None and not _text(name):
        errors["name"] = _("Choose a staff member or write a name.")
    if appointed_on is None:
        errors["appointed_on"] = _("Give the date of the appointment.")
    phone = _text(phone)
    if phone:
        try:
            phone = normalise_phone(phone)
        except NotAPhone as exc:
            errors["phone"] = str(exc)
    if errors:
        raise ValidationError(errors)
    _not_future(appointed_on, "appointed_on")
    officer = DataOfficer.objects.select_for_update().filter(school=school).first()
    action = AccessLog.Action.UPDATE if officer else AccessLog.Action.CREATE
    officer = officer or DataOfficer(school=school)
    officer.user, officer.name, officer.phone = user, _text(name), phone
    officer.appointed_on, officer.appointed_by = appointed_on, actor
    officer.full_clean(exclude=["school", "user", "appointed_by"], validate_constraints=False)
    officer.save()
    _log(actor, officer, action, request=request)
    return officer
