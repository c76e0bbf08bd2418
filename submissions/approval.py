"""Where a submission stands along the org tree (village school → centre school → bureau), as
each level sees it. The one rule; pages, the API, `today` and the analytics all read it here
(re-exported by submissions.selectors).

On the VIA_CENTRE route a village school (one with a parent, its township centre school) sends
to its centre first: SUBMITTED/RESUBMITTED waits for the centre; the centre approves (APPROVED,
waiting for the bureau and locked for the school) or returns (RETURNED, returned_level=centre,
back to the school). The bureau accepts an APPROVED submission or returns it to the centre
(RETURNED, returned_level=bureau), which then re-approves it or returns it to the school. Centre
schools' own submissions, and every submission of a DIRECT type, go straight to the bureau.
"""
from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tenancy.models import School

from .models import ApprovalRoute, Level, Period, ReportType, Status, Submission


class ApprovalState(models.TextChoices):
    # Not yet submitted (as the bureau sees a school on the direct route).
    NOT_SENT = "not_sent", _("Not submitted")
    # The level below still has to act: for the centre, the school has not submitted; for the
    # bureau, a village submission its centre has not approved yet.
    WAITING_BELOW = "waiting_below", _("Waiting for the level below")
    # This level's decision is due.
    READY = "ready", _("To review")
    # This level returned it; the level below must fix it.
    RETURNED = "returned", _("Returned")
    # This level passed it on (the centre approved; the bureau accepted).
    PASSED = "passed", _("Passed")


_OPEN = (Status.OPEN, Status.COMPILED)
_SENT = (Status.SUBMITTED, Status.RESUBMITTED)

# (status, returned_level or None for any) → state, per (level, route through a centre).
# The first matching row wins. Q filters are derived from the same table.
_Rule = tuple[tuple[str, ...], str | None, ApprovalState]
_RULES: dict[tuple[str, bool], list[_Rule]] = {
    # The centre sees only its village schools' VIA_CENTRE submissions.
    (Level.CENTRE, True): [
        (_OPEN, None, ApprovalState.WAITING_BELOW),
        (_SENT, None, ApprovalState.READY),
        # Returned by the bureau: the centre decides (re-approve, or return to the school).
        ((Status.RETURNED,), Level.BUREAU, ApprovalState.READY),
        ((Status.RETURNED,), None, ApprovalState.RETURNED),
        ((Status.APPROVED, Status.ACCEPTED), None, ApprovalState.PASSED),
    ],
    (Level.BUREAU, True): [
        (_OPEN, None, ApprovalState.NOT_SENT),
        (_SENT, None, ApprovalState.WAITING_BELOW),
        # Returned by the centre: with the school, still below the bureau.
        ((Status.RETURNED,), Level.CENTRE, ApprovalState.WAITING_BELOW),
        ((Status.RETURNED,), None, ApprovalState.RETURNED),
        ((Status.APPROVED,), None, ApprovalState.READY),
        ((Status.ACCEPTED,), None, ApprovalState.PASSED),
    ],
    (Level.BUREAU, False): [
        (_OPEN, None, ApprovalState.NOT_SENT),
        # APPROVED cannot occur off the centre route; were a type's route changed mid-period,
        # the bureau still decides it.
        (_SENT + (Status.APPROVED,), None, ApprovalState.READY),
        ((Status.RETURNED,), None, ApprovalState.RETURNED),
        ((Status.ACCEPTED,), None, ApprovalState.PASSED),
    ],
}


def goes_via_centre(report_type: ReportType, school: School) -> bool:
    """A village school's submission of a VIA_CENTRE type passes its centre school first."""
    return report_type.route == ApprovalRoute.VIA_CENTRE and school.parent_id is not None


def state_of(status: str | None, returned_level: str, *, level: str, via_centre: bool) -> ApprovalState:
    """The pure rule. `status` None means no submission row yet (never opened)."""
    if level == Level.CENTRE and not via_centre:
        raise ValueError("the centre has no part in a submission that goes to the bureau directly")
    status = status or Status.OPEN
    for statuses, returned_by, state in _RULES[(level, via_centre)]:
        if status in statuses and (returned_by is None or returned_by == returned_level):
            return state
    raise ValueError(f"no approval state for status {status!r}")


def approval_state(submission: Submission, level: str = Level.BUREAU) -> ApprovalState:
    return state_of(submission.status, submission.returned_level, level=level,
                    via_centre=goes_via_centre(submission.report_type, submission.school))


def approval_states(report_type: ReportType, period: Period, schools: Iterable[School],
                    level: str = Level.BUREAU) -> dict[int, ApprovalState]:
    """The state of each school's submission for one period, in one query; a school without a
    submission row counts as not yet submitted."""
    schools = list(schools)
    rows = dict(
        (school_id, (status, returned_level))
        for school_id, status, returned_level in Submission.objects.filter(
            report_type=report_type, period=period, school__in=[s.id for s in schools],
        ).values_list("school_id", "status", "returned_level")
    )
    out = {}
    for school in schools:
        status, returned_level = rows.get(school.id, (None, ""))
        out[school.id] = state_of(status, returned_level, level=level,
                                  via_centre=goes_via_centre(report_type, school))
    return out


_VIA_CENTRE_Q = Q(report_type__route=ApprovalRoute.VIA_CENTRE, school__parent__isnull=False)


def returned_to_school_q() -> Q:
    """Returned and the school's to fix: not a village submission the bureau returned to its centre
    (services._common.school_may_edit is the per-row form)."""
    return Q(status=Status.RETURNED) & ~(Q(returned_level=Level.BUREAU) & _VIA_CENTRE_Q)


def approval_state_q(state: str, level: str = Level.BUREAU) -> Q:
    """A filter on Submission for the submissions in `state` as `level` sees them (rows only: a
    never-opened school has no row to find)."""
    out = Q(pk__in=[])
    for via_centre in (True, False):
        rules = _RULES.get((level, via_centre))
        if rules is None:
            continue
        taken = Q(pk__in=[])  # rows an earlier rule already claimed (first match wins)
        route_q = _VIA_CENTRE_Q if via_centre else ~_VIA_CENTRE_Q
        for statuses, returned_by, rule_state in rules:
            q = Q(status__in=statuses)
            if returned_by is not None:
                q &= Q(returned_level=returned_by)
            if rule_state == state:
                out |= route_q & q & ~taken
            taken |= q
    return out


def centre_of(school: School) -> School | None:
    """The centre school that approves a village school's reports (its parent)."""
    return school.parent


# ---------------------------------------------------------------- reads for the centre school's review
def approving_centres(user) -> list[School]:
    """The centre schools whose village schools' reports the user approves (approve_reports held
    on a school that oversees others)."""
    from tenancy.selectors import permissions_by_school

    ids = [sid for sid, perms in permissions_by_school(user).items() if "approve_reports" in perms]
    return list(School.objects.filter(id__in=ids, children__isnull=False).distinct().order_by("path"))


def approval_batches_visible_to(user):
    """A centre school's bulk decisions: for its approvers and the bureau (not the village schools)."""
    from tenancy.selectors import permissions_by_school

    from .models import ApprovalBatch

    ids = [sid for sid, perms in permissions_by_school(user).items()
           if perms & {"approve_reports", "review_submissions", "view_aggregates"}]
    return ApprovalBatch.objects.filter(school_id__in=ids).select_related("actor")


class QueueRow:
    """One village school in a centre school's review queue for one period."""

    def __init__(self, school: School, submission: Submission | None, state: ApprovalState):
        self.school, self.submission, self.state = school, submission, state

    @property
    def decidable(self) -> bool:
        return self.state == ApprovalState.READY


def centre_report_types(centre: School) -> list[ReportType]:
    """The active VIA_CENTRE report types some village school of the centre reports on."""
    return list(ReportType.objects.filter(district_id=centre.district_id, route=ApprovalRoute.VIA_CENTRE,
                                          is_active=True, schools__parent=centre).distinct().order_by("-start_on", "id"))


def centre_periods(report_type: ReportType, today) -> list[Period]:
    """Opened periods, newest first."""
    return list(Period.objects.filter(report_type=report_type, open_on__lte=today).order_by("-start_on"))


def centre_queue(*, centre: School, report_type: ReportType, period: Period) -> list[QueueRow]:
    """The centre's village schools assigned to the report type, with their submission and state
    as the centre sees it; the ones to decide first."""
    from .calendar import school_open_during

    villages = [s for s in School.objects.filter(parent=centre, report_types=report_type).order_by("name")
                if school_open_during(s.opened_on, s.closed_on, period.start_on, period.end_on)]
    subs = {s.school_id: s for s in Submission.objects.filter(
        report_type=report_type, period=period, school__in=villages).select_related("school", "report_type", "period")}
    states = approval_states(report_type, period, villages, level=Level.CENTRE)
    order = {ApprovalState.READY: 0, ApprovalState.WAITING_BELOW: 1, ApprovalState.RETURNED: 2,
             ApprovalState.PASSED: 3}
    rows = [QueueRow(s, subs.get(s.id), states[s.id]) for s in villages]
    return sorted(rows, key=lambda r: (order.get(r.state, 9), r.school.name))


def centre_to_review(user) -> list[Submission]:
    """Every village submission waiting for a decision of the user's centre schools (the `today` items)."""
    centres = approving_centres(user)
    if not centres:
        return []
    return list(Submission.objects.filter(approval_state_q(ApprovalState.READY, Level.CENTRE),
                                          school__parent__in=centres)
                .select_related("school", "report_type", "period").order_by("period__due_on", "school__name"))
