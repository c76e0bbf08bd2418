"""The school's unlock requests (申请解锁) and the bureau's reminders from the matrix (催报).

A request is granted by performing the bureau's unlock (lifecycle.submission_unlock) in the same
transaction, so a grant and its unlock cannot come apart. Decisions are compare-and-set on the
request's status: two taps on "grant" cannot both succeed.
"""
from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from notices.models import Kind
from notices.services import notify
from tenancy.selectors import has_school_perm
from tenancy.services import access_log_record

from ..models import ReminderKind, Status, Submission, SubmissionEvent, SubmissionReminder, UnlockRequest
from ._common import TransitionConflict, _localdate, _require
from .lifecycle import submission_is_locked, submission_unlock
from .notices import unlock_refused_notify, unlock_request_notify
from .reminders import _reminder_text, reminder_recipients

NOT_SENT = (Status.OPEN, Status.COMPILED)


def may_request_unlock(user, submission: Submission) -> bool:
    """The school's admin asks (the clerk sends reports but does not speak for the school)."""
    return (has_school_perm(user, "submit_reports", submission.school)
            and has_school_perm(user, "manage_staff", submission.school))


def _event(submission: Submission, action: str, actor, now: datetime, comment: str = "") -> None:
    SubmissionEvent.objects.create(school_id=submission.school_id, submission=submission, action=action,
                                   from_status=submission.status, to_status=submission.status,
                                   actor=actor if getattr(actor, "is_authenticated", False) else None,
                                   at=now, comment=comment)


@transaction.atomic
def unlock_request_create(*, actor, submission: Submission, reason: str,
                          now: datetime | None = None) -> UnlockRequest:
    now = now or timezone.now()
    if actor is None or not may_request_unlock(actor, submission):
        raise PermissionDenied(_("Only the school's admin can ask the bureau to unlock a report."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the report is late, so the bureau can decide.")})
    if len(reason) > 1000:
        raise ValidationError({"reason": _("Keep the reason under 1000 characters.")})
    if submission.status not in NOT_SENT or not submission_is_locked(submission, _localdate(now)):
        raise ValidationError(_("This report is not locked: there is nothing to unlock."))
    try:
        with transaction.atomic():
            request = UnlockRequest.objects.create(school_id=submission.school_id, submission=submission,
                                                   reason=reason, requested_by=actor, requested_at=now)
    except IntegrityError:
        raise ValidationError(_("You have already asked to unlock this report; the bureau has not decided yet.")) from None
    _event(submission, SubmissionEvent.Action.UNLOCK_REQUEST, actor, now, reason)
    access_log_record(user=actor, school_id=submission.school_id, action="create", obj=request)
    unlock_request_notify(submission, requested_by=actor, reason=reason, event_key=f"unlock-request:{request.pk}")
    return request


def _decide(request: UnlockRequest, to: str, actor, now: datetime) -> None:
    n = (UnlockRequest.objects.filter(pk=request.pk, status=UnlockRequest.State.PENDING)
         .update(status=to, decided_by=actor, decided_at=now))
    if n != 1:
        raise TransitionConflict(_("This request has already been decided."))
    request.refresh_from_db()
    access_log_record(user=actor, school_id=request.school_id, action="update", obj=request,
                      detail={"decision": to})


@transaction.atomic
def unlock_request_grant(*, actor, request: UnlockRequest, until: date | None = None,
                         now: datetime | None = None) -> UnlockRequest:
    now = now or timezone.now()
    submission = request.submission
    _require(actor, "review_submissions", submission, _("Only the bureau can unlock submissions."))
    _decide(request, UnlockRequest.State.GRANTED, actor, now)
    submission_unlock(actor=actor, submission=submission, until=until, now=now,
                      comment=_("Unlock requested: %(reason)s") % {"reason": request.reason[:1900]})
    return request


@transaction.atomic
def unlock_request_refuse(*, actor, request: UnlockRequest, now: datetime | None = None) -> UnlockRequest:
    now = now or timezone.now()
    submission = request.submission
    _require(actor, "review_submissions", submission, _("Only the bureau can refuse an unlock."))
    _decide(request, UnlockRequest.State.REFUSED, actor, now)
    _event(submission, SubmissionEvent.Action.UNLOCK_REFUSE, actor, now)
    unlock_refused_notify(request)
    return request


@transaction.atomic
def submission_remind(*, actor, submission: Submission, now: datetime | None = None) -> SubmissionReminder:
    """The bureau's 催报 to one school for one report; at most once a day per submission."""
    now = now or timezone.now()
    today = _localdate(now)
    _require(actor, "review_submissions", submission, _("Only the bureau can send reminders."))
    if submission.status not in NOT_SENT:
        raise ValidationError(_("%(school)s has already sent this report.") % {"school": submission.school.name})
    users = reminder_recipients([submission.school_id]).get(submission.school_id, [])
    try:
        with transaction.atomic():
            reminder = SubmissionReminder.objects.create(
                school_id=submission.school_id, submission=submission, kind=ReminderKind.MANUAL, sent_at=now,
                sent_on=today, sent_by=actor, recipients=len(users))
    except IntegrityError:
        raise ValidationError(_("%(school)s was already reminded about this report today. Try again tomorrow.")
                              % {"school": submission.school.name}) from None
    with translation.override(settings.LANGUAGE_CODE):  # the school reads it in Chinese, whoever sent it
        text = _reminder_text(submission, ReminderKind.MANUAL)
    notify(event_key=f"submission:{submission.pk}:manual:{reminder.pk}", kind=Kind.OVERDUE,
           district_id=submission.report_type.district_id, school_id=submission.school_id, users=users, text=text,
           link=f"/submissions/{submission.pk}/")
    _event(submission, SubmissionEvent.Action.REMIND, actor, now)
    access_log_record(user=actor, school_id=submission.school_id, action="create", obj=reminder)
    return reminder


def submissions_remind_late(*, actor, submissions, now: datetime | None = None) -> tuple[int, int]:
    """Remind every given late submission; those reminded today already are skipped.
    Returns (sent, skipped). Each reminder is its own transaction, so one refusal keeps the rest."""
    sent = skipped = 0
    for submission in submissions:
        try:
            submission_remind(actor=actor, submission=submission, now=now)
        except ValidationError:
            skipped += 1
        else:
            sent += 1
    return sent, skipped
