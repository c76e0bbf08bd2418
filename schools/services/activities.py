"""Weekly themes and activities with their participants."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tenancy.models import AccessLog, School

from .. import selectors
from ..models import Activity, ActivityParticipant, Child, Semester, ThemeSchedule
from ._common import _log, _not_in_future, _require, _same_school, _save, _set_fields

# ---------------------------------------------------------------- activities
ACTIVITY_FIELDS = ("date", "kind", "title", "description", "text_record")


@transaction.atomic
def theme_schedule_set(*, actor, school: School, semester: Semester, weekday: int, theme: str) -> ThemeSchedule:
    _require(actor, "manage_materials", school)
    if semester.district_id != school.district_id:
        raise ValidationError({"semester": _("This semester belongs to another district.")})
    if weekday not in range(1, 6):
        raise ValidationError({"weekday": _("Themes are set for Monday to Friday.")})
    row, created = ThemeSchedule.objects.update_or_create(
        school=school, semester=semester, weekday=weekday, defaults={"theme": theme})
    _log(actor, row, AccessLog.Action.CREATE if created else AccessLog.Action.UPDATE)
    return row


def _set_participants(activity: Activity, participants) -> None:
    """participants: iterable of Child, or (Child, placing, placing_label) tuples."""
    rows = []
    for p in participants:
        child, placing, label = (p, None, "") if isinstance(p, Child) else (tuple(p) + (None, ""))[:3]
        _same_school(child, activity.school, "participants")
        rows.append(ActivityParticipant(school_id=activity.school_id, activity=activity, child=child,
                                        placing=placing, placing_label=label or ""))
    if any(r.placing for r in rows) and activity.kind != Activity.Kind.COMPETITION:
        raise ValidationError({"participants": _("Only competitions have placings.")})
    ActivityParticipant.objects.filter(activity=activity).delete()
    ActivityParticipant.objects.bulk_create(rows)


@transaction.atomic
def activity_create(*, actor, school: School, participants=(), request=None, **fields) -> Activity:
    _require(actor, "manage_materials", school)
    activity = Activity(school=school, created_by=actor)
    _set_fields(activity, fields, ACTIVITY_FIELDS)
    if activity.date:
        _not_in_future(activity.date, "date")
        activity.semester = selectors.semester_for_date(school.district_id, activity.date)
    _save(activity, actor=actor, action=AccessLog.Action.CREATE, request=request)
    _set_participants(activity, participants)
    return activity


@transaction.atomic
def activity_update(*, actor, activity: Activity, participants=None, request=None, **fields) -> Activity:
    _require(actor, "manage_materials", activity.school)
    changed = _set_fields(activity, fields, ACTIVITY_FIELDS)
    if "date" in changed:
        _not_in_future(activity.date, "date")
        activity.semester = selectors.semester_for_date(activity.school.district_id, activity.date)
    _save(activity, actor=actor, action=AccessLog.Action.UPDATE, request=request, detail={"fields": changed})
    if participants is not None:
        _set_participants(activity, participants)
    return activity


@transaction.atomic
def activity_delete(*, actor, activity: Activity, request=None) -> None:
    _require(actor, "manage_materials", activity.school)
    _log(actor, activity, AccessLog.Action.DELETE, request=request)
    activity.delete()
