"""Every write of the care app, each in one transaction with its access-log row.

Cases are opened automatically (the daily beat job over the risk index, a register change to
无人监护, a contact flagged 关注) or by hand (the school admin, the child's proxy parent); a child
never has two open cases (checked here, and by a partial unique index for two at once).
"""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from schools.models import Child
from tenancy.models import School
from tenancy.selectors import has_district_perm
from tenancy.services import access_log_record, access_log_record_many

from . import risk, risk_yaml, selectors
from .models import Case, CaseAction, Referral, RiskRuleVersion

AUTO_REASONS = {Case.Reason.RISK, Case.Reason.CONCERN, Case.Reason.UNATTENDED}


def _today() -> dt.date:
    return timezone.localdate()


def _rules_for(district_id: int) -> dict:
    return risk.active_rules([district_id])[district_id][1]


def _may_care(actor, child: Child) -> bool:
    return selectors.children_for_care(actor, child.school).filter(pk=child.pk).exists()


def _may_handle(actor, case: Case) -> bool:
    return selectors.cases_visible_to(actor, case.school).filter(pk=case.pk).exists()


# ---------------------------------------------------------------- opening
def _open(*, child: Child, reason: str, note: str, opened_by, owner_id: int | None, due_on: dt.date,
          request=None) -> Case | None:
    """The one place a case is created: None when the child already has an open case."""
    if Case.objects.filter(child=child, status=Case.Status.OPEN).exists():
        return None
    if owner_id is None:
        owner_id = selectors.default_owner_ids([child], _today()).get(child.pk)
    if owner_id is None:
        return None  # a school without an admin: nobody to own it (the admin page shows the risk list)
    try:
        with transaction.atomic():
            case = Case.objects.create(school_id=child.school_id, child=child, opened_reason=reason,
                                       opened_note=note[:300], owner_id=owner_id, due_on=due_on, opened_by=opened_by)
    except IntegrityError:  # opened at the same moment elsewhere
        return None
    access_log_record(user=opened_by, school_id=child.school_id, action="create", obj=case, request=request,
                      detail={"reason": reason})
    return case


def case_open_auto(*, child: Child, reason: str, note: str = "", opened_by=None) -> Case | None:
    """A case opened by the system (a concern flag, 无人监护): due after the rules' days."""
    if reason not in AUTO_REASONS:
        raise ValueError(reason)
    if child.status != Child.Status.ACTIVE:
        return None
    days = _rules_for(child.school.district_id)["case_due_days"]
    return _open(child=child, reason=reason, note=note, opened_by=opened_by, owner_id=None,
                 due_on=_today() + dt.timedelta(days=days))


def case_open(*, actor, child: Child, note: str = "", due_on: dt.date | None = None, request=None) -> Case:
    """Open a case by hand: the school admin for any child, a proxy parent for their own."""
    if not _may_care(actor, child):
        raise PermissionDenied(_("You may not open a case for this child."))
    today = _today()
    due_on = due_on or today + dt.timedelta(days=_rules_for(child.school.district_id)["case_due_days"])
    if due_on < today:
        raise ValidationError({"due_on": _("The follow-up date cannot be in the past.")})
    if Case.objects.filter(child=child, status=Case.Status.OPEN).exists():
        raise ValidationError(_("This child already has an open follow-up case."))
    with transaction.atomic():
        case = _open(child=child, reason=Case.Reason.MANUAL, note=note, opened_by=actor, owner_id=None,
                     due_on=due_on, request=request)
    if case is None:
        raise ValidationError(_("This child already has an open follow-up case."))
    return case


def cases_open_from_risk(schools: list[School], today: dt.date | None = None) -> list[Case]:
    """The daily job's work for a set of schools: a case for every active child at or above the
    rules' `open_case_at` level, or with no one caring for them (无人监护), that has none open.
    A constant number of queries per district, whatever the number of children."""
    today = today or _today()
    by_district: dict[int, list[School]] = {}
    for s in schools:
        by_district.setdefault(s.district_id, []).append(s)
    created: list[Case] = []
    for district_id, group in by_district.items():
        rules = _rules_for(district_id)
        level = rules.get("open_case_at", "high")
        wanted = {risk.HIGH} if level == "high" else {risk.HIGH, risk.MEDIUM} if level == "medium" else set()
        rows = risk.risk_scores(group, today=today, rules_by_district={district_id: rules})
        ids = [r.child_id for r in rows if r.level in wanted]
        unattended = set(Child.objects.filter(school__in=group, status=Child.Status.ACTIVE,
                                              guardianship_assessment=Child.Assessment.NONE)
                         .values_list("pk", flat=True))
        candidates = set(ids) | unattended
        if not candidates:
            continue
        candidates -= set(Case.objects.filter(child_id__in=candidates, status=Case.Status.OPEN)
                          .values_list("child_id", flat=True))
        children = list(Child.objects.filter(pk__in=candidates))
        owners = selectors.default_owner_ids(children, today)
        due = today + dt.timedelta(days=rules["case_due_days"])
        new = [Case(school_id=c.school_id, child=c, owner_id=owners[c.pk], due_on=due,
                    opened_reason=Case.Reason.UNATTENDED if c.pk in unattended else Case.Reason.RISK)
               for c in children if owners.get(c.pk)]
        with transaction.atomic():
            made = Case.objects.bulk_create(new, ignore_conflicts=False) if new else []
            by_school: dict[int, list[int]] = {}
            for case in made:
                by_school.setdefault(case.school_id, []).append(case.pk)
            for school_id, case_ids in by_school.items():
                access_log_record_many(user=None, action="create", object_type="care.case", school_id=school_id,
                                       object_ids=case_ids, detail={"reason": "daily risk check"})
        created += made
    return created


# ---------------------------------------------------------------- working on a case
def case_action_add(*, actor, case: Case, text: str, done_on: dt.date | None = None, request=None) -> CaseAction:
    text = (text or "").strip()
    done_on = done_on or _today()
    if not _may_handle(actor, case):
        raise PermissionDenied(_("You may not work on this case."))
    errors = {}
    if not text:
        errors["text"] = _("Say what was done.")
    if done_on > _today():
        errors["done_on"] = _("The date cannot be in the future.")
    if not case.is_open:
        errors["__all__"] = _("The case is closed.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        action = CaseAction.objects.create(school_id=case.school_id, case=case, done_on=done_on, text=text,
                                           done_by=actor)
        access_log_record(user=actor, school_id=case.school_id, action="create", obj=action, request=request)
    return action


def case_close(*, actor, case: Case, reason: str, request=None) -> Case:
    reason = (reason or "").strip()
    if not _may_handle(actor, case):
        raise PermissionDenied(_("You may not work on this case."))
    if not case.is_open:
        raise ValidationError(_("The case is already closed."))
    if not reason:
        raise ValidationError({"close_reason": _("Say why the case is closed.")})
    with transaction.atomic():
        case.status, case.close_reason = Case.Status.CLOSED, reason[:300]
        case.closed_by, case.closed_at = actor, timezone.now()
        case.save(update_fields=["status", "close_reason", "closed_by", "closed_at", "updated_at"])
        access_log_record(user=actor, school_id=case.school_id, action="update", obj=case, request=request,
                          detail={"closed": True})
    return case


# ---------------------------------------------------------------- referrals
def referral_create(*, actor, child: Child, to: str, reason: str, made_on: dt.date | None = None,
                    is_mandatory_report: bool = False, shares_data: bool = False,
                    consent_recorded_on: dt.date | None = None, consent_given_by: str = "",
                    legal_ground: str = "", answer: str = "", answered_on: dt.date | None = None,
                    request=None) -> Referral:
    """Record a referral or a mandatory report. Sharing the child's data needs the guardian's
    recorded consent (when and who) or a legal ground from the fixed list; otherwise refused."""
    if not _may_care(actor, child):
        raise PermissionDenied(_("You may not refer this child."))
    today = _today()
    made_on = made_on or today
    reason, consent_given_by = (reason or "").strip(), (consent_given_by or "").strip()
    errors: dict[str, str] = {}
    if to not in Referral.To.values:
        errors["to"] = _("Choose where the child is referred to.")
    if not reason:
        errors["reason"] = _("Say why the child is referred.")
    if made_on > today:
        errors["made_on"] = _("The date cannot be in the future.")
    if legal_ground and legal_ground not in Referral.LegalGround.values:
        errors["legal_ground"] = _("Choose a legal ground from the list.")
    if answered_on and not answer.strip():
        errors["answer"] = _("Write the answer received, or leave its date empty.")
    if shares_data and not legal_ground and not (consent_recorded_on and consent_given_by):
        errors["shares_data"] = _(
            "The child's data may only be shared with the guardian's recorded consent (the date and who gave it) "
            "or on a legal ground (a mandatory report, an emergency to protect the child's safety, or a request "
            "of the police according to law). Record one of them, or do not share the data.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        referral = Referral.objects.create(
            school_id=child.school_id, child=child, to=to, made_on=made_on, made_by=actor, reason=reason,
            is_mandatory_report=is_mandatory_report, shares_data=shares_data,
            consent_recorded_on=consent_recorded_on if shares_data else None,
            consent_given_by=consent_given_by if shares_data else "",
            legal_ground=legal_ground if shares_data else "", answer=answer.strip(), answered_on=answered_on)
        access_log_record(user=actor, school_id=child.school_id, action="create", obj=referral, request=request,
                          detail={"to": to, "mandatory": is_mandatory_report, "shares_data": shares_data})
    return referral


def referral_answer(*, actor, referral: Referral, answer: str, answered_on: dt.date | None = None,
                    request=None) -> Referral:
    answer = (answer or "").strip()
    answered_on = answered_on or _today()
    if not selectors.referrals_visible_to(actor, referral.school).filter(pk=referral.pk).exists():
        raise PermissionDenied(_("You may not change this referral."))
    if not answer:
        raise ValidationError({"answer": _("Write the answer received.")})
    if answered_on > _today() or answered_on < referral.made_on:
        raise ValidationError({"answered_on": _("The answer's date must lie between the referral and today.")})
    with transaction.atomic():
        referral.answer, referral.answered_on = answer, answered_on
        referral.save(update_fields=["answer", "answered_on"])
        access_log_record(user=actor, school_id=referral.school_id, action="update", obj=referral, request=request)
    return referral


# ---------------------------------------------------------------- the district's rules
def risk_rules_save(*, actor, district, source: str, request=None) -> RiskRuleVersion:
    """Save an uploaded rules document as the district's new active version (the bureau admin).
    Refused with every problem listed when it does not validate."""
    if actor is not None and not has_district_perm(actor, "manage_checklists", district):
        raise PermissionDenied(_("Only the bureau admin sets the risk rules."))
    try:
        rules = risk_yaml.load(source)
    except ValueError as exc:
        raise ValidationError({"source": str(exc)}) from exc
    with transaction.atomic():
        last = (RiskRuleVersion.objects.select_for_update().filter(district=district).order_by("-number").first())
        RiskRuleVersion.objects.filter(district=district, active=True).update(active=False)
        version = RiskRuleVersion.objects.create(
            district=district, number=(last.number + 1) if last else 1, source=source, rules=rules,
            digest=risk_yaml.digest(source), active=True, created_by=actor)
        school_ids = list(School.objects.filter(district=district).values_list("pk", flat=True))
        if school_ids:
            access_log_record_many(user=actor, action="create", object_type="care.riskruleversion",
                                   object_id=version.pk, school_ids=school_ids, request=request)
    return version


def risk_rules_activate(*, actor, version: RiskRuleVersion, request=None) -> RiskRuleVersion:
    """Make an earlier version the active one again (versions are never edited)."""
    district = version.district
    if actor is not None and not has_district_perm(actor, "manage_checklists", district):
        raise PermissionDenied(_("Only the bureau admin sets the risk rules."))
    with transaction.atomic():
        RiskRuleVersion.objects.filter(district=district, active=True).exclude(pk=version.pk).update(active=False)
        RiskRuleVersion.objects.filter(pk=version.pk).update(active=True)
        school_ids = list(School.objects.filter(district=district).values_list("pk", flat=True))
        if school_ids:
            access_log_record_many(user=actor, action="update", object_type="care.riskruleversion",
                                   object_id=version.pk, school_ids=school_ids, request=request)
    version.active = True
    return version
