"""Reads about submissions. Callers run inside a tenant scope (the middleware or a task's);
school-owned rows outside it are invisible (django-scopes + RLS), and the permission checks here
decide what the user may see within it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from tenancy.models import District, School
from tenancy.selectors import has_school_perm, permissions_on_district

from .approval import ApprovalState, approval_state, approval_state_q, approval_states  # noqa: F401
from .matrix import (  # noqa: F401  (the bureau's matrix, read through the selectors)
    CELL_LABELS,
    SENT_CELLS,
    Cell,
    Matrix,
    MatrixCell,
    MatrixRow,
    Rates,
    completeness_matrix,
    matrix_columns,
    matrix_table,
)
from .models import (
    PackageVersion,
    Period,
    ReportType,
    SimilarityFlag,
    Status,
    Submission,
    SubmissionEvent,
)

# The approval-route states live in one place; read them from here.
from .oversight import OVERSIGHT_PERMS  # noqa: F401
from .oversight import oversight_school_q as _oversight_school_q


# ---------------------------------------------------------------- a school's own submissions
def submissions_for_school(*, user, school: School) -> QuerySet[Submission]:
    """A school's submissions (its calendar), for anyone who may see the school's home."""
    if not has_school_perm(user, "view_home", school):
        return Submission.objects.none()
    return (Submission.objects.filter(school=school).select_related("report_type", "period")
            .order_by("period__due_on", "report_type_id"))


def submission_get(*, user, submission_id: int) -> Submission:
    """One submission, or Submission.DoesNotExist if it is missing, outside the scope, or the user
    may not see its school: the same error either way, so a view answers 404 (never 403)."""
    submission = (Submission.objects.filter(pk=submission_id)
                  .select_related("report_type", "period", "school").first())
    if submission is None or not has_school_perm(user, "view_home", submission.school):
        raise Submission.DoesNotExist
    return submission


def submission_events(*, submission: Submission) -> QuerySet[SubmissionEvent]:
    return SubmissionEvent.objects.filter(submission=submission).select_related("actor").order_by("id")  # write order; `at` may be backdated by the demo


def package_versions(*, submission: Submission) -> QuerySet[PackageVersion]:
    return PackageVersion.objects.filter(submission=submission).order_by("-version")


def current_package(*, submission: Submission) -> PackageVersion | None:
    return PackageVersion.objects.filter(submission=submission, is_current=True).first()


# ---------------------------------------------------------------- the bureau's view
def report_types_for(*, user, district: District) -> QuerySet[ReportType]:
    if _oversight_school_q(user, district) is None:
        return ReportType.objects.none()
    return ReportType.objects.filter(district=district).order_by("-start_on", "id")


def can_manage_report_types(*, user, district: District) -> bool:
    """The bureau admin sets the reporting calendar (the services refuse anyone else too)."""
    return "review_submissions" in permissions_on_district(user, district)


def overseen_report_type(*, user, pk) -> ReportType | None:
    """A report type of one of the districts whose reporting the user oversees, else None (404)."""
    districts = oversight_districts(user=user)
    return ReportType.objects.filter(pk=pk, district__in=districts).select_related("district").first()


def report_type_awaiting_review(*, report_type: ReportType) -> int:
    """Sent reports of the type nobody has accepted yet: who reviews them depends on the route."""
    return Submission.objects.filter(
        report_type=report_type, status__in=(Status.SUBMITTED, Status.RESUBMITTED, Status.APPROVED)).count()


def similarity_flags(*, user, district: District, report_type: ReportType | None = None) -> QuerySet[SimilarityFlag]:
    """Flagged pairs, for the bureau (or a township admin, within its subtree: both sides must be
    in it), highest score first."""
    school_q = _oversight_school_q(user, district)
    if school_q is None:
        return SimilarityFlag.objects.none()
    overseen = School.objects.filter(school_q).values("id")
    qs = SimilarityFlag.objects.filter(report_type__district=district, school_id__in=overseen, school_b_id__in=overseen)
    if report_type is not None:
        qs = qs.filter(report_type=report_type)
    return qs.select_related("school", "school_b", "submission_a__period", "submission_b__period", "report_type")


# ---------------------------------------------------------------- reminders and unlock requests
def late_submissions(*, user, report_type: ReportType, today: date | None = None) -> list[Submission]:
    """The submissions the matrix shows as missing (due, not sent) in the user's oversight."""
    matrix = completeness_matrix(user=user, report_type=report_type, today=today)
    ids = [c.submission_id for row in matrix.rows for c in row.cells
           if c.status == Cell.MISSING and c.submission_id is not None]
    return list(Submission.objects.filter(pk__in=ids).select_related("school", "report_type", "period")
                .order_by("school__path", "period__seq"))


def unlock_requests_for(*, user, district: District, pending_only: bool = True):
    """The unlock requests of the schools the user reviews in a district, newest first."""
    from .models import UnlockRequest

    school_q = _oversight_school_q(user, district)
    if school_q is None:
        return UnlockRequest.objects.none()
    qs = (UnlockRequest.objects.filter(school__in=School.objects.filter(school_q))
          .select_related("submission__report_type", "submission__period", "school", "requested_by", "decided_by"))
    return qs.filter(status=UnlockRequest.State.PENDING) if pending_only else qs


def pending_unlock_request(*, submission: Submission):
    from .models import UnlockRequest

    return UnlockRequest.objects.filter(submission=submission, status=UnlockRequest.State.PENDING).first()


def unlock_requests_visible_to(user):
    from .models import UnlockRequest

    return UnlockRequest.objects.filter(submission__in=submissions_visible_to(user)).select_related(
        "submission__report_type", "submission__period", "school")


# ---------------------------------------------------------------- web UI reads
REPORTING_PERMS = {"submit_reports", "review_submissions", "view_aggregates"}


def _takes_part(perms: set[str]) -> bool:
    """The rule: the school's admin and clerk (who submit), the bureau (who reviews) and overseers
    (who read aggregates) take part in a school's reporting. A teacher does not."""
    return bool(perms & REPORTING_PERMS)


def takes_part_in_reporting(*, user, school: School) -> bool:
    """Whether the user has any part in a school's reporting (_takes_part; reporting_school_ids is
    the batched form)."""
    from tenancy.selectors import permissions_on_school

    return _takes_part(permissions_on_school(user, school))


def may_read_reviews(*, user, school: School) -> bool:
    """The review screen: for the bureau and the overseers of the school, not the school itself."""
    from tenancy.selectors import permissions_on_school

    return bool(permissions_on_school(user, school) & OVERSIGHT_PERMS)


def oversight_districts(*, user) -> list[District]:
    """The districts whose reporting the user oversees (all of it, or a township's subtree)."""
    from tenancy.selectors import districts_visible_to

    return [d for d in districts_visible_to(user).order_by("id") if _oversight_school_q(user, d) is not None]


def package_version_get(*, submission: Submission, version: int) -> PackageVersion:
    """One version of a submission's package (PackageVersion.DoesNotExist otherwise)."""
    return PackageVersion.objects.get(submission=submission, version=version)


def latest_package(*, submission: Submission) -> PackageVersion | None:
    return PackageVersion.objects.filter(submission=submission).order_by("-version").first()


def narrative_of(*, submission: Submission):
    from .models import Narrative

    return Narrative.objects.filter(submission=submission).first()


def similarity_flag_get(*, user, flag_id: int) -> SimilarityFlag:
    """One flag the user may see (both sides in their oversight), else SimilarityFlag.DoesNotExist."""
    flag = SimilarityFlag.objects.filter(pk=flag_id).select_related("report_type__district").first()
    if flag is None:
        raise SimilarityFlag.DoesNotExist
    flag = similarity_flags(user=user, district=flag.report_type.district).filter(pk=flag_id).first()
    if flag is None:
        raise SimilarityFlag.DoesNotExist
    return flag



# ---------------------------------------------------------------- the API's querysets (per user, any school)
def reporting_school_ids(user) -> list[int]:
    """Schools in whose reporting the user takes part (see takes_part_in_reporting): a teacher of
    the school has none, so the API shows them no submission, as the web pages refuse them."""
    from tenancy.selectors import permissions_by_school

    return [sid for sid, perms in permissions_by_school(user).items() if _takes_part(perms)]


def submissions_visible_to(user) -> QuerySet[Submission]:
    """Every submission of the schools whose reporting the user takes part in (constant queries)."""
    return (Submission.objects.filter(school_id__in=reporting_school_ids(user))
            .select_related("report_type", "period", "school"))


def oversight_district_ids(user) -> list[int]:
    """Ids of oversight_districts: the bureau (district grant) or a township admin."""
    return [d.id for d in oversight_districts(user=user)]


def report_types_visible_to(user) -> QuerySet[ReportType]:
    return ReportType.objects.filter(district_id__in=oversight_district_ids(user)).order_by("-start_on", "id")


def periods_visible_to(user) -> QuerySet[Period]:
    return Period.objects.filter(report_type__in=report_types_visible_to(user)).select_related("report_type")


def similarity_flags_visible_to(user) -> QuerySet[SimilarityFlag]:
    from tenancy.selectors import districts_visible_to

    ids: list[int] = []
    for district in districts_visible_to(user):
        ids += list(similarity_flags(user=user, district=district).values_list("id", flat=True))
    return SimilarityFlag.objects.filter(id__in=ids).select_related(
        "school", "school_b", "submission_a__period", "submission_b__period", "report_type")


def district_exports_visible_to(user):
    """The bureau's exports (a district grant with aggregate or review rights)."""
    from tenancy.selectors import districts_visible_to

    from .models import DistrictExport

    ids = [d.id for d in districts_visible_to(user) if permissions_on_district(user, d) & OVERSIGHT_PERMS]
    return DistrictExport.objects.filter(district_id__in=ids).select_related("report_type", "period", "district")


def submission_events_visible_to(user) -> QuerySet[SubmissionEvent]:
    return (SubmissionEvent.objects.filter(school_id__in=reporting_school_ids(user))
            .select_related("actor").order_by("id"))


def package_versions_visible_to(user) -> QuerySet[PackageVersion]:
    return PackageVersion.objects.filter(school_id__in=reporting_school_ids(user)).select_related(
        "submission")


def narratives_visible_to(user):
    from .models import Narrative

    return Narrative.objects.filter(school_id__in=reporting_school_ids(user)).select_related("submission")


def can_run_district_export(*, user, district) -> bool:
    """Running one is the bureau admin's; the inspector reads and downloads (services refuse it too)."""
    return "review_submissions" in permissions_on_district(user, district)


def periods_for_district_export(*, user, district):
    """Periods of the district's report types that have started, newest first (export choices)."""
    from .models import Period

    if not (permissions_on_district(user, district) & OVERSIGHT_PERMS):
        return Period.objects.none()
    return (Period.objects.filter(report_type__district=district, start_on__lte=timezone.localdate())
            .select_related("report_type").order_by("-start_on", "report_type__name")[:60])


# ---------------------------------------------------------------- the start page's work lists
def sendable_q(today: date) -> Q:
    """Still open for a first submission on `today`: the Q form of services.submission_is_locked."""
    return Q(period__lock_on__gt=today) | Q(unlocked_until__gte=today)


@dataclass
class SchoolWork:
    """One school's reporting work on a day (counts of submissions)."""

    due_ahead: int = 0  # not sent, due today or later
    next_due: date | None = None
    late: int = 0  # not sent, past due, still sendable
    to_compile: int = 0  # open, sendable, no package compiled yet
    returned: int = 0  # returned to the school (by the bureau or its centre), to fix and send again
    returned_by_centre: int = 0  # of which its centre school returned
    waiting_review: int = 0  # waiting for the bureau's decision (approval state READY at the bureau)
    waiting_centre: int = 0  # village submissions waiting for their centre school's decision
    returned_ids: list[int] = field(default_factory=list)


def reporting_work(school_ids: list[int], today: date) -> dict[int, SchoolWork]:
    """{school id: SchoolWork} for every school given, in one query (callers pass the schools
    whose reporting the user takes part in)."""
    from django.db.models import Count, Min

    from .approval import returned_to_school_q
    from .models import SENT_STATUSES, Level, Status

    not_sent = ~Q(status__in=SENT_STATUSES)
    sendable = sendable_q(today)
    returned_q = returned_to_school_q()
    rows = (Submission.objects.filter(school_id__in=school_ids).values("school_id").order_by()
            .annotate(
                due_ahead=Count("id", filter=not_sent & Q(period__due_on__gte=today)),
                next_due=Min("period__due_on", filter=not_sent & Q(period__due_on__gte=today)),
                late=Count("id", filter=not_sent & Q(period__due_on__lt=today) & sendable),
                to_compile=Count("id", filter=Q(status=Status.OPEN) & sendable),
                returned=Count("id", filter=returned_q),
                returned_by_centre=Count("id", filter=returned_q & Q(returned_level=Level.CENTRE)),
                waiting_review=Count("id", filter=approval_state_q(ApprovalState.READY, Level.BUREAU)),
                waiting_centre=Count("id", filter=approval_state_q(ApprovalState.READY, Level.CENTRE)),
            ))
    out = {sid: SchoolWork() for sid in school_ids}
    for row in rows:
        sid = row.pop("school_id")
        out[sid] = SchoolWork(**row)
    returned = (Submission.objects.filter(returned_q, school_id__in=school_ids)
                .order_by("period__due_on", "id").values_list("school_id", "id"))
    for sid, sub_id in returned:
        out[sid].returned_ids.append(sub_id)
    return out


def similarity_flag_count(*, user) -> int:
    """Flagged pairs of copied narratives the user oversees, in every district they oversee."""
    return similarity_flags_visible_to(user).count()
