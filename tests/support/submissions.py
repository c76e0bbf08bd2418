"""Submissions for tests: a fortnightly report type over the `tree` district, and its periods."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from submissions import services
from submissions.models import PeriodType, ReportKind, Submission
from tenancy.scoping import tenant_scope

TZ = ZoneInfo(settings.TIME_ZONE)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ)


def district_ids(tree):
    return [tree.gupei.id, tree.village_a.id, tree.village_b.id, tree.menzhuang.id]


@pytest.fixture
def report(tree):
    """4 fortnightly periods from 2026-04-01 (Apr 1–14, 15–28, Apr 29–May 12, May 13–26).
    Opens on the period's first day; due 3 days after its end; on time within 3; locked after 14."""
    return services.report_type_create(
        actor=tree.bureau_admin, district=tree.district, name="进展报送", code="progress",
        kind=ReportKind.PROGRESS, period_type=PeriodType.FORTNIGHTLY, start_on=date(2026, 4, 1),
        end_on=date(2026, 5, 26), due_offset_days=3, timely_within_days=3, lock_after_days=14,
        remind_days_before=2, schools=[tree.gupei, tree.menzhuang, tree.village_a],
    )


@pytest.fixture
def opened(tree, report):
    """All four periods opened (today = 2026-06-30)."""
    services.periods_open(today=date(2026, 6, 30))
    return report


def get_sub(tree, report, school, seq) -> Submission:
    # The school's own scope: callers may already be inside it (a scope only narrows).
    with tenant_scope([school.id]):
        return Submission.objects.select_related("period", "school", "report_type").get(
            report_type=report, school=school, period__seq=seq)


def compile_(submission, actor, now=None):
    """What the compile job will do: reserve a version and complete it."""
    version = services.package_version_start(submission=submission, actor=actor)
    services.package_version_complete(version=version, now=now)
    submission.refresh_from_db()
    return version


def compiled(tree, report, school, seq, actor):
    with tenant_scope([school.id]):
        compile_(get_sub(tree, report, school, seq), actor)
        # Read again with its period and report type: the caller may read them outside the scope.
        return get_sub(tree, report, school, seq)


def one_day_after_end(sub, days=1, hour=10):
    return at(sub.period.end_on + timedelta(days=days), hour)
