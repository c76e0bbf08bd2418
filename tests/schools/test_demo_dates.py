"""The demo does not depend on the clock: seeded as of different days of the year, it succeeds,
stays idempotent and keeps the facts issues #3 and #5 describe.

The day is passed to the demo explicitly (seed_demo --today). The services called by the demo
still check their own dates against the clock (nothing adopted or recorded in the future), so the
clock is set to the same day for them (mock.patch of timezone.localdate, as tests/compliance does).
"""
from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from schools import demo as schools_demo
from schools import models as m
from schools import selectors
from submissions import selectors as submission_selectors
from submissions.demo import demo_today, progress_code
from submissions.models import ReportType
from tenancy.models import School, User
from tenancy.scoping import tenant_scope

from .test_demo import counts

DATED = [(m.CareContact, "happened_on"), (m.Activity, "date"), (m.TrainingMeeting, "date"),
         (m.WorkRecordEntry, "date"), (m.TutoringSession, "date")]


def test_demo_semesters_follow_the_date():
    D = dt.date
    names = lambda today: [n for n, _s, _e in schools_demo.demo_semesters(today)]  # noqa: E731
    assert schools_demo.demo_semesters(D(2026, 11, 28)) == [
        ("2026 春季学期", D(2026, 2, 23), D(2026, 7, 5)), ("2026 秋季学期", D(2026, 9, 1), D(2027, 1, 24))]
    assert names(D(2026, 3, 1)) == ["2025 春季学期", "2025 秋季学期"]  # spring 2026 is too young yet
    assert names(D(2027, 3, 15)) == ["2026 春季学期", "2026 秋季学期", "2027 春季学期"]
    assert names(D(2027, 8, 1)) == ["2026 春季学期", "2026 秋季学期", "2027 春季学期"]  # summer: spring just ended
    assert names(D(2027, 10, 10)) == ["2027 春季学期", "2027 秋季学期"]
    for today in (D(2026, 1, 1) + dt.timedelta(days=k) for k in range(0, 800, 7)):
        semesters = schools_demo.demo_semesters(today)
        assert len(semesters) >= 2
        assert semesters[-1][1] + dt.timedelta(days=schools_demo.MIN_DAYS_INTO_SEMESTER) <= today
        assert all(a[2] < b[1] for a, b in zip(semesters, semesters[1:]))  # ordered, no overlap


@pytest.mark.parametrize("today", [dt.date(2027, 3, 15), dt.date(2027, 10, 10)], ids=str)
def test_demo_seeds_as_of_another_day(db, settings, tmp_path, today):
    settings.MEDIA_ROOT = str(tmp_path)
    real = timezone.localdate

    def localdate(value=None, *args, **kwargs):  # only "today" moves; converting a given time does not
        return today if value is None else real(value, *args, **kwargs)

    with mock.patch("django.utils.timezone.localdate", side_effect=localdate):
        call_command("seed_demo", today=today, stdout=open("/dev/null", "w"))
        before = counts()
        call_command("seed_demo", today=today, stdout=open("/dev/null", "w"))
        assert counts() == before  # idempotent
    ids = list(School.objects.values_list("id", flat=True))
    gupei = School.objects.get(code="gupei")
    expected = schools_demo.demo_semesters(today)
    with tenant_scope(ids):
        assert list(m.Semester.objects.filter(district=gupei.district).order_by("start")
                    .values_list("name", "start", "end")) == expected
        current = selectors.semester_current(gupei.district_id, today)
    assert current.name == expected[-1][0]
    with tenant_scope(ids):
        # Gupei held five proxy-parent meetings this semester.
        assert m.TrainingMeeting.objects.filter(school=gupei, semester=current).count() == 5
        assert m.StudyPair.objects.filter(school=gupei).exists()
        for model, field in DATED:
            rows = list(model.objects.values_list(field, "semester__start", "semester__end"))
            assert rows, model.__name__
            # Nothing in the future, and every record in the semester that contains its date.
            assert max(day for day, _s, _e in rows) <= today, model.__name__
            assert all(s is not None and s <= day <= e for day, s, e in rows), model.__name__
    # The spring progress report since April, Gupei 10 of 11 with one late.
    year = schools_demo.progress_year(today)
    with tenant_scope(ids):
        progress = ReportType.objects.get(code=progress_code(year))
    assert progress.start_on == dt.date(year, 4, 1)
    assert any(s <= progress.start_on <= e for _n, s, e in expected)  # inside a spring semester of the demo
    bureau = User.objects.get(username="bureau_admin")
    with tenant_scope(ids):
        matrix = submission_selectors.completeness_matrix(user=bureau, report_type=progress, today=demo_today(year))
        row = next(r for r in matrix.rows if r.school.code == "gupei")
        statuses = [c.status for c in row.cells]
    assert len(matrix.periods) == 11
    assert statuses.count("on_time") == 9 and statuses.count("late") == 1 and statuses[-1] == "missing"
