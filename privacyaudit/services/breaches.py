"""Recording a personal-data breach and each batch of notices to the guardians of the children
it touched. The affected schools' staff are told through the notices app; the text names the
schools and the data, never a child."""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from notices.models import Kind
from notices.selectors import staff_by_school
from notices.services import notify
from tenancy.models import AccessLog, District, School
from tenancy.roles import Role
from tenancy.scoping import district_scope

from .. import selectors
from ..models import Breach, BreachNotice
from ._common import log_on_schools

# Who at an affected school is told: the people who handle the children's records.
TOLD_ROLES = (Role.SCHOOL_ADMIN, Role.TEACHER, Role.CLERK, Role.TOWNSHIP_ADMIN)


def _check_dates(occurred_on: dt.date, discovered_on: dt.date, today: dt.date) -> None:
    errors = {}
    if occurred_on > today:
        errors["occurred_on"] = _("This date is in the future.")
    if discovered_on > today:
        errors["discovered_on"] = _("This date is in the future.")
    elif discovered_on < occurred_on:
        errors["discovered_on"] = _("A breach cannot be discovered before it happened.")
    if errors:
        raise ValidationError(errors)


def breach_link(breach: Breach) -> str:
    if breach.school_id:
        return reverse("school_breach", kwargs={"school_pk": breach.school_id, "breach_pk": breach.pk})
    return reverse("district_breach", kwargs={"pk": breach.district_id, "breach_pk": breach.pk})


@transaction.atomic
def breach_record(*, actor, district: District, school: School | None = None, occurred_on: dt.date,
                  discovered_on: dt.date, data_involved: str, children_affected: int, description: str,
                  measures: str, affected_schools=(), request=None, today: dt.date | None = None) -> Breach:
    """Record a breach: the bureau admin one of the district (naming the affected schools), a
    school admin one of their own school. Validated first, then written with its log rows and the
    notice to the affected schools' staff, all in one transaction."""
    today = today or timezone.localdate()
    if school is not None:
        if school.district_id != district.pk or (actor is not None
                                                 and not selectors.can_record_school_breach(actor, school)):
            raise PermissionDenied(_("Only the school's admin can record a breach of the school."))
        affected = [school.pk]
    else:
        if actor is not None and not selectors.can_record_district_breach(actor, district):
            raise PermissionDenied(_("Only the bureau admin can record a breach of the district."))
        affected = sorted({s.pk if isinstance(s, School) else int(s) for s in affected_schools})
        known = set(School.objects.filter(district_id=district.pk, id__in=affected).values_list("id", flat=True))
        if not affected or known != set(affected):
            raise ValidationError({"affected_schools": _("Choose the schools of the district whose children's data "
                                                         "was involved.")})
    _check_dates(occurred_on, discovered_on, today)
    if children_affected < 0:
        raise ValidationError({"children_affected": _("Enter a number of children, 0 or more.")})
    with district_scope(district.pk):
        breach = Breach(district=district, school=school, occurred_on=occurred_on, discovered_on=discovered_on,
                        data_involved=data_involved.strip(), children_affected=children_affected,
                        description=description.strip(), measures=measures.strip(), affected_schools=affected,
                        recorded_by=actor if getattr(actor, "is_authenticated", False) else None)
        breach.full_clean()
        breach.save()
        log_on_schools(actor, affected, AccessLog.Action.CREATE, breach,
                       {"children_affected": children_affected}, request=request)
        _tell_staff(breach, affected)
    return breach


def _tell_staff(breach: Breach, school_ids: list[int]) -> None:
    names = dict(School.objects.filter(id__in=school_ids).values_list("id", "name"))
    for school_id, users in staff_by_school(school_ids, TOLD_ROLES).items():
        text = _("A data breach concerning %(school)s was recorded (happened on %(date)s; data involved: "
                 "%(data)s). Measures taken: %(measures)s") % {
            "school": names.get(school_id, ""), "date": breach.occurred_on.isoformat(),
            "data": breach.data_involved, "measures": breach.measures}
        notify(event_key=f"breach:{breach.pk}:school:{school_id}", kind=Kind.BREACH_RECORDED,
               district_id=breach.district_id, school_id=school_id, users=users, text=text,
               link=breach_link(breach) if breach.school_id == school_id else "")


@transaction.atomic
def breach_notice_record(*, actor, breach: Breach, method: str, sent_on: dt.date, guardians_notified: int,
                         text: str, request=None, today: dt.date | None = None) -> BreachNotice:
    """One batch of notices sent to guardians, by whoever may record the breach itself."""
    today = today or timezone.localdate()
    # actor=None: system setup and seeding only, like the other services.
    allowed = actor is None or (selectors.can_record_school_breach(actor, breach.school) if breach.school_id
                                else selectors.can_record_district_breach(actor, breach.district_id))
    if not allowed:
        raise PermissionDenied(_("You cannot record notices of this breach."))
    errors = {}
    if method not in BreachNotice.Method.values:
        errors["method"] = _("Choose how the guardians were told.")
    if sent_on > today:
        errors["sent_on"] = _("This date is in the future.")
    elif sent_on < breach.discovered_on:
        errors["sent_on"] = _("A notice cannot be sent before the breach was discovered.")
    if guardians_notified < 1:
        errors["guardians_notified"] = _("Enter how many guardians were told (1 or more).")
    if not text.strip():
        errors["text"] = _("Enter the text the guardians were sent.")
    if errors:
        raise ValidationError(errors)
    with district_scope(breach.district_id):
        notice = BreachNotice(breach=breach, method=method, sent_on=sent_on, guardians_notified=guardians_notified,
                              text=text.strip(), recorded_by=actor if getattr(actor, "is_authenticated", False) else None)
        notice.full_clean()
        notice.save()
    log_on_schools(actor, breach.affected_schools, AccessLog.Action.CREATE, notice,
                   {"breach": breach.pk, "guardians_notified": guardians_notified}, request=request)
    return notice
