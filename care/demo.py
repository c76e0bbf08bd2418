"""Demo data for the follow-up of children at risk. Idempotent (a district with cases is left
alone). Reads the register values schools/demo.py gave the children, runs the daily risk check as
of the seed day, and makes sure `gupei_teacher` has work today: one case past its date and one due
within the week, each with an action, plus one answered referral at Gupei."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from schools.models import Child, ProxyAssignment
from tenancy.scoping import district_scope, tenant_scope

from . import risk, services
from .models import Case, CaseAction, Referral


def seed(ctx: dict) -> None:
    with district_scope(ctx["district"]):
        _seed(ctx)


def _seed(ctx: dict) -> None:
    today = ctx.setdefault("today", timezone.localdate())
    schools, users = ctx["schools"], ctx["users"]
    ids = [s.pk for s in schools.values()]
    if Case.objects.filter(school_id__in=ids).exists():
        return
    services.cases_open_from_risk(list(schools.values()), today)
    gupei, teacher, admin = schools["gupei"], users["gupei_teacher"], users["gupei_admin"]
    with tenant_scope([gupei.pk]):
        _teacher_cases(gupei, teacher, today)
        _referral(gupei, admin, today)


def _teacher_cases(school, teacher, today: dt.date) -> None:
    """Two of the teacher's children, the riskiest first, get the teacher's cases: overdue, then
    due in four days."""
    mine = list(ProxyAssignment.objects.filter(ProxyAssignment.active_q(today), proxy_parent=teacher, school=school)
                .values_list("child_id", flat=True))
    rows = risk.by_level(risk.risk_scores([school], today=today, child_ids=mine))
    cases = list(Case.objects.filter(owner=teacher, status=Case.Status.OPEN).order_by("id"))
    for row in rows:
        if len(cases) >= 2:
            break
        if any(c.child_id == row.child_id for c in cases):
            continue
        child = Child.objects.get(pk=row.child_id)
        case = (Case.objects.filter(child=child, status=Case.Status.OPEN).first()
                or services.case_open_auto(child=child, reason=Case.Reason.RISK, opened_by=None))
        if case is not None:
            Case.objects.filter(pk=case.pk).update(owner=teacher)
            cases.append(case)
    for case, due, text in zip(cases, (today - dt.timedelta(days=3), today + dt.timedelta(days=4)),
                               ("家访：奶奶腿脚不便，孩子放学后独自在家。", "电话联系了在南京打工的妈妈。"), strict=False):
        Case.objects.filter(pk=case.pk).update(due_on=due)
        CaseAction.objects.create(school=school, case=case, done_on=min(today, due) - dt.timedelta(days=7), text=text,
                                  done_by=teacher)


def _referral(school, admin, today: dt.date) -> None:
    case = Case.objects.filter(school=school, opened_reason=Case.Reason.UNATTENDED).first() or Case.objects.filter(
        school=school).first()
    if case is None:
        return
    Referral.objects.create(
        school=school, child=case.child, to=Referral.To.VILLAGE_DIRECTOR, made_on=today - dt.timedelta(days=10),
        made_by=admin, reason="孩子无人监护，请村儿童主任协助落实委托监护。", shares_data=True,
        consent_recorded_on=today - dt.timedelta(days=12), consent_given_by=case.child.guardian_name or "监护人",
        answer="已上门走访，联系到孩子的姑姑临时照看。", answered_on=today - dt.timedelta(days=4))
