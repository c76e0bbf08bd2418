"""Who sees which case, referral and risk score, and the lists the pages and the API show.

The rule, once: the school admin (manage_children) sees every child's of the school; a proxy
parent (record_contacts) only those of the children assigned to them (guardian's care_for_child),
plus the cases they own; the materials clerk sees none; the bureau and the township see counts
only (`care_counts`), never a child. Reads only: the pages, the API and the downloads log.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from schools.models import Child, ChildUserObjectPermission, ProxyAssignment
from tenancy.models import Membership, School
from tenancy.roles import Role
from tenancy.selectors import permissions_on_school, schools_visible_to

from . import risk
from .models import Case, CaseAction, Referral, RiskRuleVersion

ADMIN, PROXY = "admin", "proxy"
SOON_DAYS = 7


def care_level(user, school: School) -> str | None:
    """ADMIN (the whole school), PROXY (own children only) or None (no child's care record)."""
    if not getattr(user, "is_authenticated", False):
        return None
    perms = permissions_on_school(user, school)
    if "manage_children" in perms:
        return ADMIN
    if "record_contacts" in perms:
        return PROXY
    return None


def may_see_aggregates(user, school: School) -> bool:
    return "view_aggregates" in permissions_on_school(user, school)


def _assigned_ids(user):
    return ChildUserObjectPermission.objects.filter(
        user=user, permission__codename="care_for_child", permission__content_type__app_label="schools",
    ).values("content_object_id")


def child_q(user, school_ids_by_level: dict[str, list[int]], prefix: str = "") -> Q:
    """Rows about a child the user may see (`prefix` leads to the child's id, e.g. "child_")."""
    q = Q(pk__in=[])
    if school_ids_by_level.get(ADMIN):
        q |= Q(school_id__in=school_ids_by_level[ADMIN])
    if school_ids_by_level.get(PROXY):
        q |= Q(school_id__in=school_ids_by_level[PROXY], **{f"{prefix}id__in": _assigned_ids(user)})
    return q


def levels_by_school(user, school: School | None = None) -> dict[str, list[int]]:
    schools = [school] if school is not None else list(schools_visible_to(user))
    out: dict[str, list[int]] = {ADMIN: [], PROXY: []}
    for s in schools:
        level = care_level(user, s)
        if level:
            out[level].append(s.pk)
    return out


def cases_visible_to(user, school: School | None = None):
    levels = levels_by_school(user, school)
    q = child_q(user, levels, "child__")
    if levels[PROXY]:
        q |= Q(school_id__in=levels[PROXY], owner=user)
    return Case.objects.filter(q)


def case_actions_visible_to(user, school: School | None = None):
    return CaseAction.objects.filter(case__in=cases_visible_to(user, school))


def referrals_visible_to(user, school: School | None = None):
    return Referral.objects.filter(child_q(user, levels_by_school(user, school), "child__"))


def children_for_care(user, school: School):
    """The children a user may open a case or a referral for (active ones)."""
    return Child.objects.filter(child_q(user, levels_by_school(user, school)), school=school,
                                status=Child.Status.ACTIVE)


# ---------------------------------------------------------------- lists
def urgency(case: Case, today: dt.date) -> str:
    """"overdue" (red), "soon" (due within 7 days, amber) or "" for an open case."""
    if not case.is_open:
        return ""
    if case.due_on < today:
        return "overdue"
    if case.due_on <= today + dt.timedelta(days=SOON_DAYS):
        return "soon"
    return ""


def case_list(user, school: School, *, mine: bool = False, status: str = Case.Status.OPEN):
    qs = cases_visible_to(user, school).filter(school=school).select_related("child", "owner")
    if mine:
        qs = qs.filter(owner=user)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("due_on", "id")


def case_detail(user, school: School, pk: int) -> Case:
    """Case.DoesNotExist for one the user may not see."""
    return cases_visible_to(user, school).select_related("child", "owner", "opened_by", "closed_by").get(
        pk=pk, school=school)


def case_timeline(case: Case):
    return case.actions.select_related("done_by").order_by("-done_on", "-id")


@dataclass
class OwnerCounts:
    overdue: int = 0
    soon: int = 0


def owner_case_counts(user, school_ids, today: dt.date | None = None) -> dict[int, OwnerCounts]:
    """For the start page: the user's own open cases per school, overdue and due within 7 days
    (one query)."""
    today = today or timezone.localdate()
    rows = (Case.objects.filter(school_id__in=school_ids, owner=user, status=Case.Status.OPEN)
            .values("school_id").annotate(
                overdue=Count("id", filter=Q(due_on__lt=today)),
                soon=Count("id", filter=Q(due_on__gte=today, due_on__lte=today + dt.timedelta(days=SOON_DAYS)))))
    return {r["school_id"]: OwnerCounts(r["overdue"], r["soon"]) for r in rows}


def risk_list(user, school: School, today: dt.date | None = None) -> tuple[list[risk.RiskRow], dict, dict]:
    """(rows highest level first, {child id: Child}, the rules in force) for the children the user
    may see: the school admin all, a proxy parent their own. Constant queries."""
    level = care_level(user, school)
    if level is None:
        return [], {}, risk.active_rules([school.district_id])[school.district_id][1]
    child_ids = None
    if level == PROXY:
        child_ids = set(_assigned_ids(user).filter(content_object__school=school)
                        .values_list("content_object_id", flat=True))
    rules = risk.active_rules([school.district_id])[school.district_id][1]
    rows = risk.by_level(risk.risk_scores([school], today=today, child_ids=child_ids,
                                          rules_by_district={school.district_id: rules}))
    children = Child.objects.in_bulk([r.child_id for r in rows])
    return rows, children, rules


def rule_versions(district_id: int):
    return RiskRuleVersion.objects.filter(district_id=district_id).select_related("created_by").order_by("-number")


# ---------------------------------------------------------------- counts for overseers
@dataclass
class SchoolCounts:
    school: School
    open_cases: int = 0
    overdue_cases: int = 0
    referrals: int = 0
    mandatory_reports: int = 0


def care_counts(schools: list[School], today: dt.date | None = None) -> list[SchoolCounts]:
    """Per school: open and overdue cases, referrals and mandatory reports this year. Figures
    only, no child (the bureau's and the township's view). Two queries."""
    today = today or timezone.localdate()
    ids = [s.pk for s in schools]
    out = {s.pk: SchoolCounts(s) for s in schools}
    for r in (Case.objects.filter(school_id__in=ids, status=Case.Status.OPEN).values("school_id")
              .annotate(n=Count("id"), late=Count("id", filter=Q(due_on__lt=today)))):
        out[r["school_id"]].open_cases, out[r["school_id"]].overdue_cases = r["n"], r["late"]
    year_start = today.replace(month=1, day=1)
    for r in (Referral.objects.filter(school_id__in=ids, made_on__gte=year_start).values("school_id")
              .annotate(n=Count("id"), mandatory=Count("id", filter=Q(is_mandatory_report=True)))):
        out[r["school_id"]].referrals, out[r["school_id"]].mandatory_reports = r["n"], r["mandatory"]
    return list(out.values())


def default_owner_ids(children: list[Child], today: dt.date) -> dict[int, int | None]:
    """child id -> who owns a new case: the current proxy parent, else the school's first admin
    (two queries for any number of children)."""
    proxies = dict(ProxyAssignment.objects.filter(ProxyAssignment.active_q(today),
                                                  child_id__in=[c.pk for c in children])
                   .values_list("child_id", "proxy_parent_id"))
    admins: dict[int, int] = {}
    for school_id, user_id in (Membership.objects.filter(school_id__in={c.school_id for c in children},
                                                         role=Role.SCHOOL_ADMIN, user__is_active=True)
                               .order_by("school_id", "id").values_list("school_id", "user_id")):
        admins.setdefault(school_id, user_id)
    return {c.pk: proxies.get(c.pk) or admins.get(c.school_id) for c in children}


def children_for_care_anywhere(user):
    """Every child, of any school of the user, they may open a case or a referral for."""
    return Child.objects.filter(child_q(user, levels_by_school(user)), status=Child.Status.ACTIVE)
