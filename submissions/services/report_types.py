"""The reporting calendar: report types, their periods, and opening them (the beat job)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from schools.models import Semester
from tenancy.models import District, School
from tenancy.scoping import in_district_scope, system_scope
from tenancy.selectors import permissions_on_district

from ..calendar import school_open_during, specs_for
from ..models import Period, PeriodType, ReportType, Status, Submission, SubmissionEvent
from ._common import _localdate, _log_district, _setting


def _require_calendar_manager(actor, district: District) -> None:
    # Setting the reporting calendar is the bureau admin's job: the same grant that reviews.
    if actor is not None and "review_submissions" not in permissions_on_district(actor, district):
        raise PermissionDenied(_("Only the bureau can manage the reporting calendar."))


@in_district_scope("district")
@transaction.atomic
def report_type_create(*, actor, district: District, name: str, code: str, period_type: str, start_on: date,
                       kind: str = "progress", end_on: date | None = None, explicit_dates=(),
                       open_offset_days: int = 0, due_offset_days: int = 3, timely_within_days: int = 3,
                       lock_after_days: int = 14, remind_days_before: int = 2, schools=(),
                       route: str = "direct") -> ReportType:
    """Create a report type, assign schools and generate its periods. `actor=None`: system/seed."""
    _require_calendar_manager(actor, district)
    schools = list(schools)
    if any(s.district_id != district.id for s in schools):
        raise ValidationError({"schools": _("Every assigned school must belong to the district.")})
    explicit_dates = sorted(set(explicit_dates or ()))
    if period_type == PeriodType.EXPLICIT:
        if not explicit_dates:
            raise ValidationError({"explicit_dates": _("List at least one period end date.")})
        if explicit_dates[0] < start_on:
            raise ValidationError({"explicit_dates": _("Period end dates cannot be before the first start date.")})
    elif explicit_dates:
        raise ValidationError({"explicit_dates": _("Dates are only used with the explicit period type.")})
    report_type = ReportType(
        district=district, name=name, code=code, kind=kind, period_type=period_type, start_on=start_on,
        end_on=end_on, explicit_dates=explicit_dates, open_offset_days=open_offset_days,
        due_offset_days=due_offset_days, timely_within_days=timely_within_days, lock_after_days=lock_after_days,
        remind_days_before=remind_days_before, route=route, created_by=actor,
    )
    report_type.full_clean()
    report_type.save()
    report_type.schools.set(schools)
    periods_generate(report_type=report_type)
    _log_district(actor, district.id, "create", report_type)
    return report_type


@in_district_scope("report_type")
@transaction.atomic
def report_type_assign(*, actor, report_type: ReportType, schools) -> ReportType:
    """Replace the set of schools a report type is assigned to."""
    _require_calendar_manager(actor, report_type.district)
    schools = list(schools)
    if any(s.district_id != report_type.district_id for s in schools):
        raise ValidationError({"schools": _("Every assigned school must belong to the district.")})
    report_type.schools.set(schools)
    return report_type


@in_district_scope("report_type")
def periods_generate(*, report_type: ReportType, until: date | None = None) -> int:
    """Create the report type's missing periods up to `until` (default: today + horizon). Idempotent."""
    horizon = _setting("SUBMISSIONS_PERIOD_HORIZON_DAYS", 62)
    until = until or (_localdate() + timedelta(days=horizon))
    semesters: Sequence[tuple[date, date]] = ()
    if report_type.period_type == PeriodType.SEMESTER:
        semesters = list(Semester.objects.filter(district_id=report_type.district_id).values_list("start", "end"))
    specs = specs_for(report_type, until=until, semesters=semesters)
    if report_type.period_type == PeriodType.SEMESTER:
        # The calendar can change after periods were stored: only semesters after the last stored
        # period are added, numbered on from it (a deleted or inserted semester never shifts them).
        last = Period.objects.filter(report_type=report_type).order_by("-seq").first()
        if last is not None:
            later = [s for s in specs if s.start_on > last.end_on]
            specs = [replace(s, seq=last.seq + i) for i, s in enumerate(later, start=1)]
    before = Period.objects.filter(report_type=report_type).count()
    Period.objects.bulk_create(
        [Period(report_type=report_type, seq=s.seq, start_on=s.start_on, end_on=s.end_on, open_on=s.open_on,
                due_on=s.due_on, lock_on=s.lock_on) for s in specs],
        ignore_conflicts=True,
    )
    return Period.objects.filter(report_type=report_type).count() - before


_INSERT_SUBMISSIONS = """
INSERT INTO submissions_submission
    (school_id, report_type_id, period_id, status, timeliness, review_comment, created_at, updated_at)
SELECT t.school_id, %s, t.period_id, 'open', '', '', %s, %s
FROM unnest(%s::bigint[], %s::bigint[]) AS t(school_id, period_id)
ON CONFLICT ON CONSTRAINT submission_one_per_school_period DO NOTHING
RETURNING id, school_id
"""


def periods_open(*, today: date | None = None, report_type_ids=None) -> int:
    """The beat job: every period whose open date has come gets one submission per assigned school
    that was open during it. Returns how many submissions this run created.

    Idempotent and safe to run concurrently: INSERT … ON CONFLICT DO NOTHING on the unique
    (school, report type, period) constraint; events are written only for rows this run inserted.
    Each district runs in an explicit tenant scope of its own schools.
    """
    today = today or _localdate()
    now = timezone.now()
    horizon = _setting("SUBMISSIONS_PERIOD_HORIZON_DAYS", 62)
    with system_scope("the beat job opens the periods of every district's report types"):
        types = ReportType.objects.filter(is_active=True, start_on__lte=today).select_related("district")
        if report_type_ids is not None:
            types = types.filter(id__in=report_type_ids)
        by_district: dict[int, list[ReportType]] = {}
        for rt in types.order_by("district_id", "id"):
            by_district.setdefault(rt.district_id, []).append(rt)
    created = 0
    for district_id, rts in by_district.items():
        school_ids = list(School.objects.filter(district_id=district_id).values_list("id", flat=True))
        with system_scope("a district's periods open for every school of it", school_ids=school_ids,
                          district_ids=[district_id]):
            for rt in rts:
                periods_generate(report_type=rt, until=today + timedelta(days=horizon))
                created += _open_report_type(rt, today, now)
    return created


def _open_report_type(rt: ReportType, today: date, now: datetime) -> int:
    periods = list(Period.objects.filter(report_type=rt, open_on__lte=today).order_by("seq"))
    schools = list(rt.schools.values_list("id", "opened_on", "closed_on"))
    pairs = [(sid, p.id) for p in periods for sid, opened, closed in schools
             if school_open_during(opened, closed, p.start_on, p.end_on)]
    if not pairs:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SUBMISSIONS, [rt.id, now, now, [s for s, _p in pairs], [p for _s, p in pairs]])
        rows = cursor.fetchall()
    SubmissionEvent.objects.bulk_create([
        SubmissionEvent(school_id=school_id, submission_id=sub_id, action=SubmissionEvent.Action.OPEN,
                        from_status="", to_status=Status.OPEN, at=now)
        for sub_id, school_id in rows
    ])
    Period.objects.filter(id__in=[p.id for p in periods], opened_at__isnull=True).update(opened_at=now)
    return len(rows)


# The route may change later: each state has a meaning on either route (submissions.approval).
REPORT_TYPE_EDITABLE = ("name", "is_active", "remind_days_before", "route")


@in_district_scope("report_type")
@transaction.atomic
def report_type_update(*, actor, report_type: ReportType, schools=None, **fields) -> ReportType:
    """Rename, (de)activate, change the reminder or the assigned schools. The period rules are
    fixed once periods exist (they decided timeliness already)."""
    _require_calendar_manager(actor, report_type.district)
    fixed = set(fields) - set(REPORT_TYPE_EDITABLE)
    if fixed:
        raise ValidationError(_("These fields cannot change once periods exist: %(f)s") % {"f": ", ".join(sorted(fixed))})
    for name, value in fields.items():
        setattr(report_type, name, value)
    report_type.full_clean()
    report_type.save()
    if schools is not None:
        report_type_assign(actor=actor, report_type=report_type, schools=schools)
    _log_district(actor, report_type.district_id, "update", report_type, {"fields": sorted(fields)})
    return report_type


@in_district_scope("report_type")
@transaction.atomic
def report_type_delete(*, actor, report_type: ReportType) -> None:
    """Only a report type nobody has reported on yet; otherwise deactivate it."""
    _require_calendar_manager(actor, report_type.district)
    if Submission.objects.filter(report_type=report_type).exists():
        raise ValidationError(_("Schools have submissions for this report type; deactivate it instead."))
    _log_district(actor, report_type.district_id, "delete", report_type)
    report_type.delete()
