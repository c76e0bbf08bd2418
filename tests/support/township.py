"""A VIA_CENTRE report around today for a centre school and its village schools, sent and approved
through the real services: what the township package tests, the page walk and the API cases share.

Each school gets its own number of children (CHILDREN), so the compiled figures tell the schools
apart in the package's side-by-side table."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils import timezone

from schools.models import Child
from submissions import services
from submissions.models import ApprovalRoute, PackageVersion, Period, PeriodType, ReportKind, Submission
from tenancy import services as tenancy_services
from tenancy.models import Membership, School
from tenancy.roles import Role
from tenancy.scoping import tenant_scope

_seq = itertools.count(1)
CHILDREN = {"gupei": 2, "gupei-a": 3, "gupei-b": 5, "far-centre": 1, "far-village": 4, "menzhuang": 1}


@dataclass
class Township:
    report_type: object
    period: object
    subs: dict = field(default_factory=dict)  # school code -> Submission (period 1)


def school_admin(school: School):
    """The school's admin, made for a school of the tree that has none (village_b)."""
    membership = Membership.objects.filter(school=school, role=Role.SCHOOL_ADMIN).order_by("id").first()
    if membership is not None:
        return membership.user
    user = tenancy_services.user_create(username=f"{school.code}_admin_{next(_seq)}", password=None,
                                        display_name=f"{school.name}管理员")
    tenancy_services.membership_grant(user=user, role=Role.SCHOOL_ADMIN, school=school)
    return user


def township_admin(centre: School):
    return Membership.objects.filter(school=centre, role=Role.TOWNSHIP_ADMIN).order_by("id").first().user


def _children(school: School, n: int) -> None:
    with tenant_scope([school.id]):
        for i in range(n):
            Child.objects.create(school=school, name=f"{school.code}孩子{i}", gender="f", grade=2,
                                 class_name="二(1)班", left_behind_kind="both", status_since=date(2026, 2, 23))


def _compile(sub: Submission, actor, real: bool) -> PackageVersion:
    with tenant_scope([sub.school_id]):
        version = services.package_version_start(submission=sub, actor=actor)
    if real:
        from submissions.compile import compile_package

        return compile_package(school_id=sub.school_id, version_id=version.pk)
    with tenant_scope([sub.school_id]):
        return services.package_version_complete(
            version=version, figures={"period_start": sub.period.start_on.isoformat(),
                                      "period_end": sub.period.end_on.isoformat(),
                                      "children": CHILDREN.get(sub.school.code, 0), "activities": 1})


def township_report(centre: School, villages: list[School], *, real: bool = False, children: bool = True,
                    approve: tuple[str, ...] | None = None, today: date | None = None) -> Township:
    """A fortnightly VIA_CENTRE report of the centre and its villages; period 1 (ended three
    weeks ago, not locked) compiled and sent by every school, and approved by the centre for the
    village codes in `approve` (None: all of them). `real` compiles with the real job (figures
    from the records)."""
    today = today or timezone.localdate()
    n = next(_seq)
    schools = [centre, *villages]
    rt = services.report_type_create(
        actor=None, district=centre.district, name=f"乡镇汇总测试{n}", code=f"township-{n}", kind=ReportKind.PROGRESS,
        period_type=PeriodType.FORTNIGHTLY, start_on=today - timedelta(days=34), end_on=today + timedelta(days=60),
        due_offset_days=3, timely_within_days=3, lock_after_days=30, schools=schools, route=ApprovalRoute.VIA_CENTRE)
    services.periods_open(today=today, report_type_ids=[rt.id])
    with tenant_scope([centre.id]):
        period = Period.objects.select_related("report_type").get(report_type=rt, seq=1)
    out = Township(report_type=rt, period=period)
    approver = township_admin(centre)
    for school in schools:
        if children:
            _children(school, CHILDREN.get(school.code, 0))
        with tenant_scope([school.id]):
            sub = Submission.objects.select_related("school", "report_type", "period").get(
                report_type=rt, school=school, period__seq=1)
        actor = school_admin(school)
        _compile(sub, actor, real)
        with tenant_scope([school.id]):
            sub.refresh_from_db()
            out.subs[school.code] = services.submission_submit(actor=actor, submission=sub, enqueue_similarity=False)
    for school in villages:
        if approve is None or school.code in approve:
            with tenant_scope([centre.id, school.id]):
                out.subs[school.code] = services.submission_approve(actor=approver, submission=out.subs[school.code])
    return out
