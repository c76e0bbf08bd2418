"""Study support: teacher-child pairs and their tutoring sessions."""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from tenancy.models import AccessLog, School

from .. import selectors
from ..models import Child, StudyPair, TutoringSession
from ._common import _is_staff_of, _log, _not_in_future, _require, _same_school, _save, _set_fields, _today


# ---------------------------------------------------------------- study support
@transaction.atomic
def study_pair_create(*, actor, school: School, teacher, child: Child, starts_on: dt.date | None = None,
                      subject: str = "") -> StudyPair:
    _require(actor, "manage_children", school)
    _same_school(child, school, "child")
    if not _is_staff_of(teacher, school):
        raise ValidationError({"teacher": _("This user is not on the school's staff.")})
    pair = StudyPair(school=school, teacher=teacher, child=child, starts_on=starts_on or _today(), subject=subject)
    if StudyPair.objects.filter(teacher=teacher, child=child, ends_on__isnull=True).exists():
        raise ValidationError(_("This teacher is already paired with this child."))
    return _save(pair, actor=actor, action=AccessLog.Action.CREATE)


@transaction.atomic
def study_pair_end(*, actor, pair: StudyPair, ends_on: dt.date | None = None, request=None) -> StudyPair:
    return study_pair_update(actor=actor, pair=pair, ends_on=ends_on or _today(), request=request)


STUDY_PAIR_FIELDS = ("starts_on", "ends_on", "subject")


@transaction.atomic
def study_pair_update(*, actor, pair: StudyPair, request=None, **fields) -> StudyPair:
    """Correct a pair's dates or subject (ends_on=None reopens it). Its tutoring sessions must stay
    inside the new dates, and a teacher has at most one open pair with a child."""
    _require(actor, "manage_children", pair.school)
    changed = _set_fields(pair, fields, STUDY_PAIR_FIELDS)
    start, end = pair.starts_on, pair.ends_on
    if end is not None and end < start:
        raise ValidationError({"ends_on": _("A pair cannot end before it starts.")})
    outside = pair.sessions.filter(Q(date__lt=start) | Q(date__gt=end or dt.date.max)).order_by("date")
    first = outside.values_list("date", flat=True).first()
    if first is not None:
        raise ValidationError(_(
            "%(count)s tutoring session(s) would fall outside the pair's dates (the first on %(day)s): "
            "correct or delete them first."
        ) % {"count": outside.count(), "day": first.isoformat()})
    if end is None and StudyPair.objects.filter(
            teacher_id=pair.teacher_id, child_id=pair.child_id, ends_on__isnull=True).exclude(pk=pair.pk).exists():
        raise ValidationError(_("This teacher is already paired with this child."))
    return _save(pair, actor=actor, action=AccessLog.Action.UPDATE, request=request, detail={"fields": changed})


def _require_tutor(actor, pair: StudyPair) -> None:
    """The paired teacher, or whoever manages the archive."""
    if actor is not None and actor.id != pair.teacher_id:
        _require(actor, "manage_children", pair.school)


def _tutoring_validate(pair: StudyPair, date: dt.date, minutes) -> None:
    _not_in_future(date, "date")
    if date < pair.starts_on or (pair.ends_on and date > pair.ends_on):
        raise ValidationError({"date": _("The session is outside the pair's dates.")})
    if minutes is None or minutes <= 0:
        raise ValidationError({"minutes": _("A session lasts at least one minute.")})


@transaction.atomic
def tutoring_session_record(*, actor, pair: StudyPair, date: dt.date, minutes: int, notes: str = "",
                            request=None) -> TutoringSession:
    """The paired teacher (or the school admin) records a session inside the pair's dates."""
    _require_tutor(actor, pair)
    _tutoring_validate(pair, date, minutes)
    session = TutoringSession(school_id=pair.school_id, pair=pair, date=date, minutes=minutes, notes=notes,
                              semester=selectors.semester_for_date(pair.school.district_id, date))
    return _save(session, actor=actor, action=AccessLog.Action.CREATE, request=request)


TUTORING_FIELDS = ("date", "minutes", "notes")


@transaction.atomic
def tutoring_session_update(*, actor, session: TutoringSession, request=None, **fields) -> TutoringSession:
    """Correct a session (the paired teacher or the school admin); the checks of recording it."""
    pair = session.pair
    _require_tutor(actor, pair)
    changed = _set_fields(session, fields, TUTORING_FIELDS)
    _tutoring_validate(pair, session.date, session.minutes)
    if "date" in changed:
        session.semester = selectors.semester_for_date(pair.school.district_id, session.date)
    return _save(session, actor=actor, action=AccessLog.Action.UPDATE, request=request, detail={"fields": changed})


@transaction.atomic
def tutoring_session_delete(*, actor, session: TutoringSession, request=None) -> None:
    _require_tutor(actor, session.pair)
    _log(actor, session, AccessLog.Action.DELETE, request=request)
    session.delete()
