"""The district's academic calendar: semesters, their overlap rule and the records dated into them."""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, ForeignObjectRel, OuterRef
from django.utils.translation import gettext as _

from tenancy.models import AccessLog, School
from tenancy.scoping import district_scope, in_district_scope, tenant_scope
from tenancy.services import access_log_record_many

from .. import selectors
from ..models import Activity, CareContact, Semester, TrainingMeeting, TutoringSession, WorkRecordEntry
from ._common import _set_fields

# ---------------------------------------------------------------- academic calendar
# Records whose semester FK follows their date (CareContact requires one; the others may be null).
SEMESTER_DATED = (
    (CareContact, "happened_on"), (Activity, "date"), (TrainingMeeting, "date"), (WorkRecordEntry, "date"),
    (TutoringSession, "date"),
)
SEMESTER_FIELDS = ("name", "start", "end")


def _require_bureau_admin(actor, district) -> None:
    if actor is not None and not selectors.may_set_calendar(actor, district):
        raise PermissionDenied(_("Only the bureau sets the district's calendar."))


def _lock_calendar(district) -> None:
    # Serialise calendar edits per district so two concurrent writes cannot both pass the checks.
    type(district).objects.select_for_update().filter(pk=district.pk).first()


def _refuse_overlap(district, start: dt.date, end: dt.date, exclude_pk=None) -> None:
    if end <= start:
        raise ValidationError({"end": _("The last day must come after the first day.")})
    clash = Semester.objects.filter(district=district, start__lte=end, end__gte=start).exclude(pk=exclude_pk).first()
    if clash is not None:
        raise ValidationError(_("This semester overlaps %(name)s (%(start)s – %(end)s).") % {
            "name": clash.name, "start": clash.start.isoformat(), "end": clash.end.isoformat()})


def _district_school_ids(district_id: int) -> list[int]:
    return list(School.objects.filter(district_id=district_id).values_list("id", flat=True))


def _log_calendar(actor, semester: Semester, action: str, detail: dict | None = None) -> None:
    """One access-log row per school of the district: the calendar is every school's."""
    ids = _district_school_ids(semester.district_id)
    access_log_record_many(user=actor, school_ids=ids, action=action, object_type="schools.semester",
                           object_id=semester.pk, detail=detail)


@in_district_scope("district")
@transaction.atomic
def semester_create(*, actor, district, name: str, start: dt.date, end: dt.date) -> Semester:
    """A district's semester; refused if it overlaps another of the same district."""
    _require_bureau_admin(actor, district)
    _lock_calendar(district)
    _refuse_overlap(district, start, end)
    semester = Semester(district=district, name=name, start=start, end=end)
    semester.full_clean()
    semester.save()
    _semester_backfill(semester)
    _log_calendar(actor, semester, AccessLog.Action.CREATE, {"name": name})
    return semester


def semester_references(semester: Semester) -> dict[str, int]:
    """verbose_name_plural -> how many rows of each model point at the semester (every FK to it,
    school-owned or not), counted across the district's schools."""
    out: dict[str, int] = {}
    with district_scope(semester), tenant_scope(_district_school_ids(semester.district_id)):
        # include_hidden: most FKs to Semester have related_name="+".
        for rel in Semester._meta.get_fields(include_hidden=True):
            if not (isinstance(rel, ForeignObjectRel) and rel.auto_created and not rel.concrete and rel.one_to_many):
                continue
            n = rel.related_model._default_manager.filter(**{rel.field.name: semester}).count()
            if n:
                label = str(rel.related_model._meta.verbose_name_plural)
                out[label] = out.get(label, 0) + n
    return out


@in_district_scope("semester")
@transaction.atomic
def semester_update(*, actor, semester: Semester, **fields) -> Semester:
    """Rename or re-date a semester. Records follow their dates: those now inside it join it, and an
    edit that would leave a record outside every semester is refused (nothing is written)."""
    district = semester.district
    _require_bureau_admin(actor, district)
    _lock_calendar(district)
    semester = Semester.objects.select_for_update().get(pk=semester.pk)
    old = (semester.start, semester.end)
    changed = _set_fields(semester, fields, SEMESTER_FIELDS)
    if not changed:
        return semester
    start, end = semester.start, semester.end
    _refuse_overlap(district, start, end, exclude_pk=semester.pk)
    semester.full_clean()
    redated = (start, end) != old
    others = Semester.objects.filter(district=district).exclude(pk=semester.pk)
    if redated:
        bound = semester.assessments.count()
        if bound:
            raise ValidationError(_(
                "%(n)d compliance assessment(s) are bound to this semester's dates; its dates cannot change.")
                % {"n": bound})
        ids = _district_school_ids(district.id)
        outside: dict[str, int] = {}
        with tenant_scope(ids):
            for model, field in SEMESTER_DATED:
                orphans = (model.objects.filter(semester=semester).exclude(**{f"{field}__range": (start, end)})
                           .exclude(Exists(others.filter(start__lte=OuterRef(field), end__gte=OuterRef(field)))))
                n = orphans.count()
                if n:
                    outside[str(model._meta.verbose_name_plural)] = n
        if outside:
            raise ValidationError(_(
                "%(n)d record(s) would fall outside every semester (%(detail)s). Keep the dates, or first "
                "define a semester for those dates or correct the records.") % {
                "n": sum(outside.values()), "detail": ", ".join(f"{n} {k}" for k, n in sorted(outside.items()))})
        semester.save()
        with tenant_scope(ids):
            # Records that left this semester fall inside another one (checked above).
            for model, field in SEMESTER_DATED:
                for other in others:
                    model.objects.filter(semester=semester, **{f"{field}__range": (other.start, other.end)}).update(
                        semester=other)
        _semester_backfill(semester)
    else:
        semester.save()
    _log_calendar(actor, semester, AccessLog.Action.UPDATE, {"fields": changed})
    return semester


@in_district_scope("semester")
@transaction.atomic
def semester_delete(*, actor, semester: Semester) -> None:
    """Delete a semester no record points at; otherwise say which records do."""
    district = semester.district
    _require_bureau_admin(actor, district)
    _lock_calendar(district)
    refs = semester_references(semester)
    if refs:
        raise ValidationError(_("This semester cannot be deleted: %(refs)s point at it.") % {
            "refs": ", ".join(f"{n} {label}" for label, n in sorted(refs.items()))})
    _log_calendar(actor, semester, AccessLog.Action.DELETE, {"name": semester.name})
    semester.delete()


def _semester_backfill(semester: Semester) -> None:
    """Records dated inside a semester (entered while no semester covered their date) now
    belong to it. The calendar is the district's, so this runs in an explicit scope over the
    district's schools; it only sets the semester FK."""
    ids = _district_school_ids(semester.district_id)
    with tenant_scope(ids):
        for model in (Activity, TrainingMeeting, WorkRecordEntry, TutoringSession):
            model.objects.filter(semester__isnull=True, date__range=(semester.start, semester.end)).update(
                semester=semester)
