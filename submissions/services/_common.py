"""What the submissions services share: errors, permission checks, the audited transition."""
from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from tenancy.models import School
from tenancy.selectors import has_school_perm
from tenancy.services import access_log_record, access_log_record_many

from ..approval import goes_via_centre
from ..models import Level, Status, Submission, SubmissionEvent

# A submission the school may still change (compile, edit the narrative).
EDITABLE = (Status.OPEN, Status.COMPILED, Status.RETURNED)


def school_may_edit(submission: Submission) -> bool:
    """The school may change (compile, edit, send) the submission: not sent, or returned to it.
    A village submission the bureau returned to its centre school is the centre's to decide."""
    if submission.status not in EDITABLE:
        return False
    return not (submission.status == Status.RETURNED and submission.returned_level == Level.BUREAU
                and goes_via_centre(submission.report_type, submission.school))


class TransitionConflict(ValidationError):
    """Someone else changed the submission between reading and writing it."""


class NarrativeConflict(ValidationError):
    """The narrative was saved by someone else since the edit began (its version moved on)."""


class SubmissionLocked(ValidationError):
    """The period's lock date has passed; the bureau must unlock the submission first."""


def _setting(name: str, default):
    return getattr(settings, name, default)


def _localdate(now: datetime | None = None) -> date:
    return timezone.localdate(now) if now is not None else timezone.localdate()


def _transition(submission: Submission, *, to: str, action: str, actor, now: datetime, comment: str = "",
                level: str = "", expect: dict | None = None, **fields) -> Submission:
    """Compare-and-set the status (and the `expect` columns) from what the caller saw to `to`,
    then audit it; `level` is who acted (Level)."""
    from_status = submission.status
    n = (Submission.objects.filter(pk=submission.pk, status=from_status, **(expect or {}))
         .update(status=to, updated_at=now, **fields))
    if n != 1:
        raise TransitionConflict(_("This submission was changed by someone else meanwhile. Reload it and try again."))
    SubmissionEvent.objects.create(
        school_id=submission.school_id, submission=submission, action=action, from_status=from_status,
        to_status=to, actor=actor if getattr(actor, "is_authenticated", False) else None, at=now, comment=comment,
        level=level,
    )
    access_log_record(user=actor, school_id=submission.school_id, action="update", obj=submission,
                      detail={"transition": action, "from": from_status, "to": to})
    submission.refresh_from_db()
    return submission


def _require(actor, codename: str, submission: Submission, message: str) -> None:
    if actor is None or not has_school_perm(actor, codename, submission.school):
        raise PermissionDenied(message)


def _log_district(actor, district_id: int, action: str, obj, detail: dict | None = None) -> None:
    """A district-level action is logged once per school of the district (the log is school-owned)."""
    ids = list(School.objects.filter(district_id=district_id).values_list("id", flat=True))
    access_log_record_many(user=actor, school_ids=ids, action=action, object_type=obj._meta.label_lower,
                           object_id=obj.pk, detail=detail)
