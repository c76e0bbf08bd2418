"""A submission's life: submit, accept, return, unlock, and the narrative the school writes.

Transitions are compare-and-set on the status column (UPDATE … WHERE status = <the status the
caller saw>), so two concurrent clicks cannot both succeed. Each writes a SubmissionEvent and
an access-log entry.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from jobs.outbox import job_enqueue
from tenancy.services import access_log_record

from .. import narrative as narrative_mod
from ..approval import goes_via_centre
from ..calendar import is_on_time
from ..models import Level, Narrative, PackageVersion, Status, Submission, SubmissionEvent, Timeliness
from ._common import (
    NarrativeConflict,
    SubmissionLocked,
    _localdate,
    _require,
    _setting,
    _transition,
    school_may_edit,
)
from .notices import returned_to_centre_notify, review_notify, submitted_to_centre_notify


def content_fingerprint(submission: Submission) -> str:
    """What the school sends, as one hash: the current package's narrative and key figures.

    A recompile of unchanged records and text gives the same fingerprint; any edit of the
    narrative or of a counted record changes it."""
    current = PackageVersion.objects.filter(submission=submission, is_current=True).first()
    if current is None:
        return ""
    payload = json.dumps({"narrative": current.narrative_digest, "figures": current.figures or {}},
                         sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def resend_is_unchanged(submission: Submission) -> bool:
    """A returned submission whose content is exactly what the bureau returned."""
    return (submission.status == Status.RETURNED and bool(submission.returned_fingerprint)
            and content_fingerprint(submission) == submission.returned_fingerprint)


def submission_is_locked(submission: Submission, today: date) -> bool:
    """Locked for a first submission: past the period's lock date and not unlocked by the bureau."""
    if today < submission.period.lock_on:
        return False
    return not (submission.unlocked_until is not None and today <= submission.unlocked_until)


@transaction.atomic
def submission_submit(*, actor, submission: Submission, note: str = "", now: datetime | None = None,
                      enqueue_similarity: bool = True) -> Submission:
    """Send a compiled submission to the bureau (or send it again after a return).

    Sending back exactly what the bureau returned needs `note`: why nothing was changed.
    The narrative is compared with other schools' in a Celery task after commit; the demo seed
    passes enqueue_similarity=False and calls submission_similarity_compute itself.
    """
    now = now or timezone.now()
    today = _localdate(now)
    _require(actor, "submit_reports", submission, _("You may not submit reports for this school."))
    status = submission.status
    via_centre = goes_via_centre(submission.report_type, submission.school)
    if status == Status.ACCEPTED:
        raise ValidationError(_("This submission has been accepted and is locked."))
    if status == Status.APPROVED:
        raise ValidationError(_("Your centre school has approved this submission; it is locked while the "
                                "bureau reviews it."))
    if status in (Status.SUBMITTED, Status.RESUBMITTED):
        if via_centre:
            raise ValidationError(_("This submission has already been sent and is waiting for the centre "
                                    "school's review."))
        raise ValidationError(_("This submission has already been sent and is waiting for the bureau's review."))
    if not school_may_edit(submission):
        raise ValidationError(_("The bureau returned this submission to your centre school. Wait until the "
                                "centre school returns it to you or approves it again."))
    current = PackageVersion.objects.filter(submission=submission, is_current=True).first()
    if status == Status.OPEN or current is None:
        raise ValidationError(_("Compile the package before submitting."))
    narrative = Narrative.objects.filter(submission=submission).first()
    if narrative is not None and narrative.digest != current.narrative_digest:
        raise ValidationError(_("The narrative changed after the last compile. Compile again before submitting."))
    period = submission.period
    if status == Status.COMPILED:
        if submission_is_locked(submission, today):
            raise SubmissionLocked(
                _("This report was due on %(due)s and has been locked since %(lock)s. "
                  "Ask the bureau to unlock it before submitting.")
                % {"due": period.due_on.isoformat(), "lock": period.lock_on.isoformat()}
            )
        on_time = is_on_time(submitted_on=today, period_end_on=period.end_on,
                             timely_within_days=submission.report_type.timely_within_days)
        submission = _transition(
            submission, to=Status.SUBMITTED, action=SubmissionEvent.Action.SUBMIT, actor=actor, now=now,
            timeliness=Timeliness.ON_TIME if on_time else Timeliness.LATE,
            first_submitted_at=now, submitted_at=now, submitted_by=actor, level=Level.SCHOOL,
        )
    else:  # returned: the bureau asked for it again, so its own lock does not apply
        note = (note or "").strip()
        if resend_is_unchanged(submission) and not note:
            raise ValidationError({"note": _("Nothing has changed since the bureau returned it. Change the "
                                             "narrative or the records and compile again, or say why no change "
                                             "is needed.")})
        submission = _transition(submission, to=Status.RESUBMITTED, action=SubmissionEvent.Action.RESUBMIT,
                                 actor=actor, now=now, comment=note[:2000], submitted_at=now, submitted_by=actor,
                                 level=Level.SCHOOL)
    if via_centre:
        submitted_to_centre_notify(submission)
    if enqueue_similarity and narrative is not None and narrative.text.strip():
        _enqueue_similarity(submission)
    return submission


def _enqueue_similarity(submission: Submission) -> None:
    # Through the outbox: with the broker down the submit still succeeds, and the comparison runs
    # once the broker is back (jobs/outbox.py).
    job_enqueue("submissions.compute_similarity", submission.school_id, submission.pk)


@transaction.atomic
def submission_accept(*, actor, submission: Submission, comment: str = "", now: datetime | None = None) -> Submission:
    now = now or timezone.now()
    _require(actor, "review_submissions", submission, _("Only the bureau can accept submissions."))
    _require_bureau_turn(submission, _("Only a submission waiting for review can be accepted."))
    submission = _transition(submission, to=Status.ACCEPTED, action=SubmissionEvent.Action.ACCEPT, actor=actor,
                             now=now, comment=comment.strip(), reviewed_at=now, reviewed_by=actor,
                             review_comment=comment.strip(), level=Level.BUREAU)
    review_notify(submission)
    return submission


@transaction.atomic
def submission_return(*, actor, submission: Submission, comment: str, now: datetime | None = None) -> Submission:
    now = now or timezone.now()
    _require(actor, "review_submissions", submission, _("Only the bureau can return submissions."))
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": _("Say what the school needs to change.")})
    _require_bureau_turn(submission, _("Only a submission waiting for review can be returned."))
    submission = _transition(submission, to=Status.RETURNED, action=SubmissionEvent.Action.RETURN, actor=actor,
                             now=now, comment=comment, reviewed_at=now, reviewed_by=actor, review_comment=comment,
                             returned_fingerprint=content_fingerprint(submission), returned_level=Level.BUREAU,
                             approved_at=None, approved_by=None, level=Level.BUREAU)
    if goes_via_centre(submission.report_type, submission.school):
        returned_to_centre_notify(submission)  # the centre decides what the school must change
    else:
        review_notify(submission)
    return submission


def _require_bureau_turn(submission: Submission, message: str) -> None:
    """The bureau decides a village school's VIA_CENTRE submission only once its centre approved it."""
    if goes_via_centre(submission.report_type, submission.school):
        if submission.status in (Status.SUBMITTED, Status.RESUBMITTED):
            raise ValidationError(_("%(school)s's centre school has not approved this submission yet.")
                                  % {"school": submission.school.name})
        if submission.status != Status.APPROVED:
            raise ValidationError(message)
    elif submission.status not in (Status.SUBMITTED, Status.RESUBMITTED, Status.APPROVED):
        raise ValidationError(message)


@transaction.atomic
def submission_unlock(*, actor, submission: Submission, until: date | None = None, comment: str = "",
                      now: datetime | None = None) -> Submission:
    """The bureau lifts the lock on a not-yet-sent submission until a date (inclusive)."""
    now = now or timezone.now()
    today = _localdate(now)
    _require(actor, "review_submissions", submission, _("Only the bureau can unlock submissions."))
    if submission.status not in (Status.OPEN, Status.COMPILED):
        raise ValidationError(_("Only a submission that has not been sent can be unlocked."))
    until = until or today + timedelta(days=_setting("SUBMISSIONS_UNLOCK_DAYS", 7))
    if until < today:
        raise ValidationError({"until": _("The unlock must last until today or later.")})
    submission = _transition(submission, to=submission.status, action=SubmissionEvent.Action.UNLOCK, actor=actor,
                             now=now, unlocked_until=until,
                             comment=comment.strip() or _("Unlocked until %(until)s") % {"until": until.isoformat()},
                             level=Level.BUREAU)
    review_notify(submission)
    return submission


@transaction.atomic
def narrative_update(*, actor, submission: Submission, sections: dict, version: int | None = None,
                     now: datetime | None = None) -> Narrative:
    """Replace the school's narrative paragraphs. Only before sending (or after a return).

    `version` is the narrative version the edit started from (0 before the first save); when it
    is not the current one, someone else saved meanwhile and NarrativeConflict refuses the save.
    """
    now = now or timezone.now()
    _require(actor, "submit_reports", submission, _("You may not edit this school's reports."))
    if not school_may_edit(submission):
        raise ValidationError(_("The narrative can only be edited before the submission is sent, or after it is returned."))
    if not isinstance(sections, dict):
        raise ValidationError({"sections": _("Sections must be a mapping of section to text.")})
    unknown = set(sections) - set(narrative_mod.SECTION_KEYS)
    if unknown:
        raise ValidationError({"sections": _("Unknown sections: %(keys)s") % {"keys": ", ".join(sorted(unknown))}})
    clean = {}
    for key, text in sections.items():
        if not isinstance(text, str):
            raise ValidationError({"sections": _("Section %(key)s must be text.") % {"key": key}})
        if len(text) > narrative_mod.MAX_SECTION_CHARS:
            raise ValidationError({"sections": _("Section %(key)s is longer than %(n)d characters.")
                                   % {"key": key, "n": narrative_mod.MAX_SECTION_CHARS}})
        if text.strip():
            clean[key] = text.strip()
    # Lock the row so two saves of the same version cannot both pass the check.
    narrative = Narrative.objects.select_for_update().filter(submission=submission).first()
    created = False
    if narrative is None:
        narrative, created = Narrative.objects.get_or_create(submission=submission,
                                                             defaults={"school_id": submission.school_id})
    if version is not None and version != narrative.version:
        who = str(narrative.updated_by) if narrative.updated_by else ""
        raise NarrativeConflict(
            _("%(who)s saved this narrative while you were editing it. Your text was not saved: copy it, "
              "reload the page to see the new version, and make your changes again.")
            % {"who": who or _("Someone else")})
    narrative.version += 1
    narrative.sections = clean
    narrative.digest = narrative_mod.digest(clean)
    narrative.updated_by = actor
    narrative.save()
    SubmissionEvent.objects.create(school_id=submission.school_id, submission=submission,
                                   action=SubmissionEvent.Action.NARRATIVE, from_status=submission.status,
                                   to_status=submission.status, actor=actor, at=now, level=Level.SCHOOL)
    access_log_record(user=actor, school_id=submission.school_id, action="create" if created else "update",
                      obj=narrative)
    return narrative
