"""Reads about township packages: which schools a centre's package holds, whether they are all
approved (the one rule the request, the job and the pages share), and who sees which package.

Callers run in a scope that holds the centre's subtree (a township admin's or the bureau's request,
the job's own scope): a village submission outside the scope would look missing, so never ready.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from tenancy.models import School
from tenancy.selectors import has_school_perm

from ..approval import ApprovalState, approval_states
from ..calendar import school_open_during
from ..models import ApprovalRoute, Level, PackageVersion, Period, ReportType, Submission, TownshipPackage
from ..selectors import reporting_school_ids

# Compiling a township package is the centre's decision, like approving its villages' reports.
COMPILE_PERM = "approve_reports"


@dataclass
class SchoolRow:
    """One school of a township package: the centre itself or one of its village schools."""

    school: School
    centre: bool
    submission: Submission | None = None
    version: PackageVersion | None = None  # the submission's current compiled package
    approved: bool = False  # village: approved by the centre (or accepted); the centre: always

    @property
    def figures(self) -> dict:
        return dict(self.version.figures or {}) if self.version is not None else {}

    def as_json(self) -> dict:
        return {"id": self.school.id, "name": self.school.name, "code": self.school.code, "centre": self.centre,
                "submission": self.submission.pk if self.submission else None,
                "status": self.submission.status if self.submission else "",
                "version": self.version.version if self.version else None}


@dataclass
class Readiness:
    centre: School
    period: Period
    own: SchoolRow | None  # the centre's own submission, if the centre reports on this type
    villages: list[SchoolRow] = field(default_factory=list)

    @property
    def report_type(self) -> ReportType:
        return self.period.report_type

    @property
    def routed(self) -> bool:
        return self.report_type.route == ApprovalRoute.VIA_CENTRE

    @property
    def pending(self) -> list[SchoolRow]:
        return [row for row in self.villages if not row.approved]

    @property
    def ready(self) -> bool:
        return self.routed and bool(self.villages) and not self.pending

    @property
    def rows(self) -> list[SchoolRow]:
        """The package's columns: the centre first, then its villages in tree order."""
        return ([self.own] if self.own is not None else []) + self.villages

    def digest(self) -> str:
        """What went in: each school's submission, its status and its compiled package version."""
        parts = [[r.school.id, r.submission.pk if r.submission else None, r.submission.status if r.submission else "",
                  r.version.pk if r.version else None] for r in self.rows]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def village_schools(*, centre: School, period: Period) -> list[School]:
    """The village schools whose reports pass `centre` for this period: its children in the tree,
    assigned to the report type and open during the period (expected to report)."""
    schools = School.objects.filter(parent=centre, report_types=period.report_type).order_by("path")
    return [s for s in schools if school_open_during(s.opened_on, s.closed_on, period.start_on, period.end_on)]


def township_readiness(*, centre: School, period: Period) -> Readiness:
    """The centre's package for one period: its own submission and each village's, with whether
    the village is approved (ApprovalState.PASSED at the centre's level: approved or accepted).
    A constant number of queries."""
    report_type = period.report_type
    villages = village_schools(centre=centre, period=period)
    assigned_centre = report_type.schools.filter(pk=centre.pk).exists()
    ids = [s.id for s in villages] + ([centre.id] if assigned_centre else [])
    subs = {s.school_id: s for s in Submission.objects.filter(report_type=report_type, period=period,
                                                              school_id__in=ids)}
    current = {v.submission_id: v for v in PackageVersion.objects.filter(
        submission_id__in=[s.pk for s in subs.values()], is_current=True)}
    states = (approval_states(report_type, period, villages, level=Level.CENTRE)
              if report_type.route == ApprovalRoute.VIA_CENTRE and villages else {})

    def row(school: School, centre_row: bool) -> SchoolRow:
        sub = subs.get(school.id)
        return SchoolRow(school=school, centre=centre_row, submission=sub,
                         version=current.get(sub.pk) if sub is not None else None,
                         approved=centre_row or states.get(school.id) == ApprovalState.PASSED)

    own = row(centre, True) if assigned_centre else None
    return Readiness(centre=centre, period=period, own=own, villages=[row(s, False) for s in villages])


def may_compile(*, user, centre: School) -> bool:
    return has_school_perm(user, COMPILE_PERM, centre)


def township_packages_visible_to(user) -> QuerySet[TownshipPackage]:
    """Packages of the schools in whose reporting the user takes part: the centre's admin and
    clerk, its township admin, the bureau (a teacher none; another centre's user none)."""
    return (TownshipPackage.objects.filter(school_id__in=reporting_school_ids(user))
            .select_related("school", "report_type", "period"))


def township_packages(*, user, centre: School, period: Period | None = None) -> QuerySet[TownshipPackage]:
    qs = township_packages_visible_to(user).filter(school=centre)
    if period is not None:
        qs = qs.filter(period=period)
    return qs.order_by("-period__start_on", "-version")


def township_periods(*, centre: School, today: date | None = None) -> QuerySet[Period]:
    """Periods, newest first, of the VIA_CENTRE report types one of the centre's village schools
    reports on, that have started (the page's choices)."""
    today = today or timezone.localdate()
    types = ReportType.objects.filter(route=ApprovalRoute.VIA_CENTRE, is_active=True,
                                      schools__parent=centre).distinct()
    return (Period.objects.filter(report_type__in=types, start_on__lte=today)
            .select_related("report_type").order_by("-start_on", "report_type__name")[:60])


def township_periods_for_district(*, district_id: int, today: date | None = None) -> QuerySet[Period]:
    today = today or timezone.localdate()
    return (Period.objects.filter(report_type__district_id=district_id, start_on__lte=today,
                                  report_type__route=ApprovalRoute.VIA_CENTRE)
            .select_related("report_type").order_by("-start_on", "report_type__name")[:60])


def periods_ready_to_compile(*, centre: School, today: date | None = None, days: int = 120) -> list[Period]:
    """The start page's hint, in three queries: recent periods (ended within `days`) of VIA_CENTRE
    types in which every village school of the centre has its report approved (or accepted) and the
    centre has no township package yet. The page checks the full rule (township_readiness) again."""
    from django.db.models import Count, Q

    from ..models import Status

    today = today or timezone.localdate()
    rows = (Submission.objects.filter(school__parent=centre, report_type__route=ApprovalRoute.VIA_CENTRE,
                                      period__end_on__lte=today,
                                      period__end_on__gte=today - timedelta(days=days))
            .values("period_id").order_by()
            .annotate(n=Count("id"), passed=Count("id", filter=Q(status__in=[Status.APPROVED, Status.ACCEPTED]))))
    ready = {r["period_id"] for r in rows if r["n"] and r["n"] == r["passed"]}
    if not ready:
        return []
    done = set(TownshipPackage.objects.filter(school=centre, period_id__in=ready, is_current=True)
               .values_list("period_id", flat=True))
    return list(Period.objects.filter(pk__in=ready - done).select_related("report_type").order_by("-end_on", "id"))
