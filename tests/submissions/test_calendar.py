"""Period generation (pure) and report type creation (permissions, validation)."""
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from submissions import services
from submissions.calendar import period_specs, school_open_during
from submissions.models import Period, PeriodType
from tenancy.scoping import district_scope


def _bounds(specs):
    return [(s.start_on.isoformat(), s.end_on.isoformat()) for s in specs]


def test_fortnightly_periods_are_anchored_on_the_start_and_clipped_to_the_end():
    specs = period_specs(period_type="fortnightly", start_on=date(2026, 4, 1), end_on=date(2026, 8, 31),
                         open_offset_days=7, due_offset_days=3, lock_after_days=14)
    assert len(specs) == 11
    assert _bounds(specs)[:2] == [("2026-04-01", "2026-04-14"), ("2026-04-15", "2026-04-28")]
    assert _bounds(specs)[-1] == ("2026-08-19", "2026-08-31")  # clipped
    first = specs[0]
    assert (first.open_on, first.due_on, first.lock_on) == (date(2026, 4, 8), date(2026, 4, 17), date(2026, 4, 29))
    assert [s.seq for s in specs] == list(range(1, 12))


def test_weekly_monthly_semester_and_explicit():
    weekly = period_specs(period_type="weekly", start_on=date(2026, 3, 2), end_on=None, until=date(2026, 3, 20))
    assert _bounds(weekly) == [("2026-03-02", "2026-03-08"), ("2026-03-09", "2026-03-15"), ("2026-03-16", "2026-03-22")]
    monthly = period_specs(period_type="monthly", start_on=date(2026, 1, 15), end_on=date(2026, 3, 31))
    assert _bounds(monthly) == [("2026-01-15", "2026-01-31"), ("2026-02-01", "2026-02-28"), ("2026-03-01", "2026-03-31")]
    half_year = period_specs(period_type="half_year", start_on=date(2026, 1, 1), end_on=date(2026, 12, 31))
    assert _bounds(half_year) == [("2026-01-01", "2026-06-30"), ("2026-07-01", "2026-12-31")]
    calendar = [(date(2026, 9, 1), date(2027, 1, 24)), (date(2026, 2, 23), date(2026, 7, 5))]
    semester = period_specs(period_type="semester", start_on=date(2026, 1, 1), end_on=None, semesters=calendar)
    assert _bounds(semester) == [("2026-02-23", "2026-07-05"), ("2026-09-01", "2027-01-24")]
    # Clipped to the report type's window like the other types.
    clipped = period_specs(period_type="semester", start_on=date(2026, 3, 1), end_on=date(2026, 12, 31),
                           semesters=calendar)
    assert _bounds(clipped) == [("2026-03-01", "2026-07-05"), ("2026-09-01", "2026-12-31")]
    explicit = period_specs(period_type="explicit", start_on=date(2026, 4, 1), end_on=None,
                            explicit_dates=[date(2026, 6, 20), date(2026, 4, 30), date(2026, 4, 30)])
    assert _bounds(explicit) == [("2026-04-01", "2026-04-30"), ("2026-05-01", "2026-06-20")]


def test_generation_is_deterministic_and_idempotent(tree, report):
    with district_scope(tree.district):
        first = list(Period.objects.filter(report_type=report).values_list(
            "seq", "start_on", "end_on", "open_on", "due_on", "lock_on"))
        assert len(first) == 4
        assert services.periods_generate(report_type=report) == 0
        assert list(Period.objects.filter(report_type=report).values_list(
            "seq", "start_on", "end_on", "open_on", "due_on", "lock_on")) == first


def test_school_open_during():
    assert school_open_during(None, None, date(2026, 4, 1), date(2026, 4, 14))
    assert school_open_during(date(2026, 4, 14), None, date(2026, 4, 1), date(2026, 4, 14))
    assert not school_open_during(date(2026, 4, 15), None, date(2026, 4, 1), date(2026, 4, 14))
    assert not school_open_during(None, date(2026, 3, 31), date(2026, 4, 1), date(2026, 4, 14))


def test_only_the_bureau_admin_sets_the_calendar(tree):
    kwargs = dict(district=tree.district, name="x", code="x", period_type=PeriodType.MONTHLY, start_on=date(2026, 1, 1),
                  end_on=date(2026, 2, 28))
    for user in (tree.gupei_admin, tree.gupei_township, tree.bureau_inspector, tree.nobody):
        with pytest.raises(PermissionDenied):
            services.report_type_create(actor=user, **kwargs)
    with district_scope(tree.district):
        assert services.report_type_create(actor=tree.bureau_admin, **kwargs).periods.count() == 2


def test_bad_calendars_are_refused_with_nothing_written(tree):
    base = dict(actor=tree.bureau_admin, district=tree.district, name="x", code="x", start_on=date(2026, 4, 1))
    with pytest.raises(ValidationError, match="belong to the district"):
        services.report_type_create(period_type="monthly", end_on=date(2026, 6, 30), schools=[tree.far_school], **base)
    with pytest.raises(ValidationError):
        services.report_type_create(period_type="monthly", end_on=date(2026, 3, 1), **base)  # ends before start
    with pytest.raises(ValidationError):
        services.report_type_create(period_type="monthly", end_on=date(2026, 6, 30), timely_within_days=20,
                                    lock_after_days=10, **base)  # lock before the on-time window closes
    with pytest.raises(ValidationError, match="at least one"):
        services.report_type_create(period_type="explicit", **base)
    with district_scope(tree.district):
        assert not tree.district.report_types.exists()


def test_semester_periods_come_from_the_district_calendar(tree):
    """A "semester" is one of the district's semesters, not a calendar half-year."""
    from schools import services as school_services
    from schools.models import Semester

    school_services.semester_create(actor=None, district=tree.district, name="2026 春季学期",
                                    start=date(2026, 2, 23), end=date(2026, 7, 5))
    # Another district's calendar does not leak in.
    school_services.semester_create(actor=None, district=tree.other_district, name="其他",
                                    start=date(2026, 3, 1), end=date(2026, 6, 30))
    report = services.report_type_create(
        actor=tree.bureau_admin, district=tree.district, name="学期总结", code="term", kind="half_year_summary",
        period_type=PeriodType.SEMESTER, start_on=date(2026, 1, 1), end_on=date(2026, 12, 31),
        due_offset_days=10, schools=[tree.gupei],
    )
    with district_scope(tree.district):
        services.periods_generate(report_type=report, until=date(2026, 12, 31))
        assert list(Period.objects.filter(report_type=report).values_list("seq", "start_on", "end_on", "due_on")) == [
            (1, date(2026, 2, 23), date(2026, 7, 5), date(2026, 7, 15))]
        # A semester the bureau adds later gets its period on the next run.
        school_services.semester_create(actor=None, district=tree.district, name="2026 秋季学期",
                                        start=date(2026, 9, 1), end=date(2027, 1, 24))
        assert services.periods_generate(report_type=report, until=date(2026, 12, 31)) == 1
        assert Period.objects.get(report_type=report, seq=2).end_on == date(2026, 12, 31)
        # Later calendar changes never renumber stored periods: a semester deleted before a new one is
        # added still lets the new one in, numbered on.
        spring27 = school_services.semester_create(actor=None, district=tree.district, name="2027 春季学期",
                                                   start=date(2027, 2, 22), end=date(2027, 7, 4))
        report.end_on = None
        report.save(update_fields=["end_on"])
        school_services.semester_delete(actor=None, semester=Semester.objects.get(name="2026 秋季学期"))
        assert services.periods_generate(report_type=report, until=date(2027, 12, 31)) == 1
        assert Period.objects.get(report_type=report, seq=3).start_on == spring27.start
        assert services.periods_generate(report_type=report, until=date(2027, 12, 31)) == 0


def test_migration_keeps_old_semester_report_types_as_half_years(tree):
    """Before 0003 "semester" meant calendar half-years: such rows become "half_year"."""
    import importlib

    from django.apps import apps

    from submissions.models import ReportType

    migration = importlib.import_module("submissions.migrations.0004_period_type_semester_from_calendar")
    report = services.report_type_create(
        actor=None, district=tree.district, name="上半年总结", code="h1", kind="half_year_summary",
        period_type=PeriodType.HALF_YEAR, start_on=date(2026, 1, 1), end_on=date(2026, 6, 30), schools=[])
    with district_scope(tree.district):  # as a migration sees every row
        ReportType.objects.filter(pk=report.pk).update(period_type="semester")  # as stored before 0004
        migration.half_years_keep_their_meaning(apps, None)
        report.refresh_from_db()
    assert report.period_type == PeriodType.HALF_YEAR
