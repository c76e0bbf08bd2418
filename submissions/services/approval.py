"""The centre school's part of the approval route (VIA_CENTRE report types): approve, return to
the village school, withdraw an approval the bureau has not decided on; one at a time or many of
one period at once.

Who acts: a holder of `approve_reports` (the township admin) on the submission's CENTRE school,
the village school's parent. A village school's own staff hold nothing there, so they can never
approve their own report. Transitions are compare-and-set (services._common._transition) and
each writes a SubmissionEvent at Level.CENTRE and an access-log row.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tenancy.selectors import has_school_perm
from tenancy.services import access_log_record

from ..approval import goes_via_centre
from ..models import ApprovalBatch, Level, Status, Submission, SubmissionEvent
from ._common import _transition
from .lifecycle import content_fingerprint
from .notices import approval_withdrawn_notify, centre_approved_notify, centre_returned_notify

MAX_COMMENT = 2000
MAX_BATCH = 200


def may_approve(user, submission: Submission) -> bool:
    """The rule, for pages, the API and the services: approve_reports on the village's centre."""
    school = submission.school
    centre = school.parent
    return (user is not None and centre is not None and goes_via_centre(submission.report_type, school)
            and has_school_perm(user, "approve_reports", centre))


def centre_may_decide(submission: Submission) -> bool:
    """Sent by the village school, or returned to the centre by the bureau."""
    return (submission.status in (Status.SUBMITTED, Status.RESUBMITTED)
            or (submission.status == Status.RETURNED and submission.returned_level == Level.BUREAU))


def _require_approver(actor, submission: Submission) -> None:
    if not may_approve(actor, submission):
        raise PermissionDenied(_("Only the centre school's township admin can review this school's reports."))


def _check_decidable(submission: Submission) -> None:
    if not centre_may_decide(submission):
        raise ValidationError(_("%(school)s: this submission is not waiting for the centre school's review.")
                              % {"school": submission.school.name})


def _clean_reason(comment: str) -> str:
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": _("Say what the school needs to change.")})
    if len(comment) > MAX_COMMENT:
        raise ValidationError({"comment": _("Keep the reason under %(n)d characters.") % {"n": MAX_COMMENT}})
    return comment


def _expect(submission: Submission) -> dict:
    # RETURNED → RETURNED (bureau's to centre's) keeps the status: compare the level as well.
    return {"returned_level": submission.returned_level}


def _approve(actor, submission: Submission, comment: str, now: datetime) -> Submission:
    submission = _transition(submission, to=Status.APPROVED, action=SubmissionEvent.Action.APPROVE, actor=actor,
                             now=now, comment=comment, level=Level.CENTRE, expect=_expect(submission),
                             approved_at=now, approved_by=actor)
    centre_approved_notify(submission)
    return submission


def _return(actor, submission: Submission, comment: str, now: datetime) -> Submission:
    # What the bureau said travels down to the school with the centre's own reason.
    bureau_reason = submission.review_comment if submission.status == Status.RETURNED else ""
    submission = _transition(submission, to=Status.RETURNED, action=SubmissionEvent.Action.RETURN, actor=actor,
                             now=now, comment=comment, level=Level.CENTRE, expect=_expect(submission),
                             returned_level=Level.CENTRE, review_comment=comment,
                             returned_fingerprint=content_fingerprint(submission),
                             approved_at=None, approved_by=None)
    centre_returned_notify(submission, bureau_reason=bureau_reason)
    return submission


@transaction.atomic
def submission_approve(*, actor, submission: Submission, comment: str = "",
                       now: datetime | None = None) -> Submission:
    """The centre school passes a village school's submission on to the bureau."""
    _require_approver(actor, submission)
    _check_decidable(submission)
    comment = (comment or "").strip()[:MAX_COMMENT]
    return _approve(actor, submission, comment, now or timezone.now())


@transaction.atomic
def submission_centre_return(*, actor, submission: Submission, comment: str,
                             now: datetime | None = None) -> Submission:
    """The centre school sends a submission back to the village school, with the reason."""
    _require_approver(actor, submission)
    comment = _clean_reason(comment)
    _check_decidable(submission)
    return _return(actor, submission, comment, now or timezone.now())


@transaction.atomic
def submission_approval_withdraw(*, actor, submission: Submission, comment: str = "",
                                 now: datetime | None = None) -> Submission:
    """The centre school takes its approval back while the bureau has not decided; the submission
    is the centre's to decide again, in the state it was approved from."""
    _require_approver(actor, submission)
    if submission.status != Status.APPROVED:
        raise ValidationError(_("Only an approval the bureau has not decided on yet can be withdrawn."))
    approved = (SubmissionEvent.objects.filter(submission=submission, action=SubmissionEvent.Action.APPROVE)
                .order_by("-id").first())
    back_to = approved.from_status if approved and approved.from_status in (
        Status.SUBMITTED, Status.RESUBMITTED, Status.RETURNED) else Status.SUBMITTED
    submission = _transition(submission, to=back_to, action=SubmissionEvent.Action.WITHDRAW, actor=actor,
                             now=now or timezone.now(), comment=(comment or "").strip()[:MAX_COMMENT],
                             level=Level.CENTRE, approved_at=None, approved_by=None)
    approval_withdrawn_notify(submission)
    return submission


def _many(actor, submissions: Sequence[Submission], comment: str, now: datetime | None,
          decide: Callable[[object, Submission, str, datetime], Submission]) -> list[Submission]:
    """Validate every submission first (all or nothing), then decide each one: its own event,
    access-log row and notice."""
    submissions = list(submissions)
    if not submissions:
        raise ValidationError(_("Choose at least one school."))
    if len(submissions) > MAX_BATCH:
        raise ValidationError(_("Decide at most %(n)d submissions at once.") % {"n": MAX_BATCH})
    if len({s.pk for s in submissions}) != len(submissions):
        raise ValidationError(_("A school was chosen twice."))
    if len({(s.report_type_id, s.period_id) for s in submissions}) != 1:
        raise ValidationError(_("Decide submissions of one report and one period at a time."))
    for submission in submissions:
        _require_approver(actor, submission)
    problems = [s.school.name for s in submissions if not centre_may_decide(s)]
    if problems:
        raise ValidationError(_("These schools' submissions are not waiting for the centre school's review: "
                                "%(schools)s. Nothing was changed.") % {"schools": "、".join(problems)})
    now = now or timezone.now()
    return [decide(actor, s, comment, now) for s in submissions]


@transaction.atomic
def submissions_approve_many(*, actor, submissions: Sequence[Submission], comment: str = "",
                             now: datetime | None = None) -> list[Submission]:
    return _many(actor, submissions, (comment or "").strip()[:MAX_COMMENT], now, _approve)


@transaction.atomic
def submissions_centre_return_many(*, actor, submissions: Sequence[Submission], comment: str,
                                   now: datetime | None = None) -> list[Submission]:
    return _many(actor, submissions, _clean_reason(comment), now, _return)


@transaction.atomic
def approval_batch_create(*, actor, action: str, submissions: Sequence[Submission], comment: str = "",
                          now: datetime | None = None) -> ApprovalBatch:
    """Approve or return many village submissions of one period in one call (all or nothing), and
    record the call, owned by the centre school."""
    now = now or timezone.now()
    submissions = list(submissions)
    centres = {s.school.parent_id for s in submissions}
    if len(centres) > 1:
        raise ValidationError(_("Decide the schools of one centre school at a time."))
    if action == ApprovalBatch.Action.APPROVE:
        decided = submissions_approve_many(actor=actor, submissions=submissions, comment=comment, now=now)
    elif action == ApprovalBatch.Action.RETURN:
        decided = submissions_centre_return_many(actor=actor, submissions=submissions, comment=comment, now=now)
    else:
        raise ValidationError({"action": _("Choose approve or return.")})
    first = decided[0]
    centre_id = centres.pop()
    assert centre_id is not None  # _many refused every school without a centre (may_approve)
    batch = ApprovalBatch.objects.create(
        school_id=centre_id, report_type_id=first.report_type_id, period_id=first.period_id, action=action,
        comment=(comment or "").strip()[:MAX_COMMENT], submission_ids=[s.pk for s in decided], actor=actor, at=now)
    access_log_record(user=actor, school_id=batch.school_id, action="create", obj=batch,
                      detail={"action": action, "submissions": len(decided)})
    return batch
